"""What pages and callbacks share: page declarations, the navigation, the figure factory."""
