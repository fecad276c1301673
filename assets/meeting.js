/* 周例会 in the meeting room (?meeting=1): the arrow keys, Page Up/Down and the space bar move
 * a whole section (screen) at a time, so the chair pages through the week from the keyboard
 * or a presenter's clicker. */
(function () {
  "use strict";
  var STEP = { ArrowDown: 1, ArrowRight: 1, PageDown: 1, " ": 1, ArrowUp: -1, ArrowLeft: -1, PageUp: -1 };
  document.addEventListener("keydown", function (event) {
    var main = document.querySelector(".shell-main");
    if (!main || !document.querySelector(".wk-meeting")) {
      return;
    }
    var target = event.target || {};
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName || "")) {
      return;
    }
    var step = STEP[event.key];
    if (!step) {
      return;
    }
    event.preventDefault();
    var slides = Array.prototype.slice.call(document.querySelectorAll(".wk-meeting .wk-slide"));
    var origin = main.getBoundingClientRect().top;
    var current = 0;
    slides.forEach(function (slide, i) {
      if (slide.getBoundingClientRect().top - origin <= 5) {
        current = i;
      }
    });
    var next = slides[Math.max(0, Math.min(slides.length - 1, current + step))];
    main.scrollTop += next.getBoundingClientRect().top - origin;
  });
})();
