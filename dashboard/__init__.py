"""City-brain command center for municipal social governance (市域社会治理综合指挥平台): core package."""
