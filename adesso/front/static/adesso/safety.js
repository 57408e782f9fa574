// What used to be inline handlers (the Content Security Policy allows no inline
// script), and remote images shown on request (adesso/lib/remoteimages.py).
(function () {
  "use strict";

  // <form data-confirm="Question?"> and <button data-confirm="Question?">: ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    var button = event.submitter;
    var asked = button && button.getAttribute("data-confirm");
    if ((question || asked) && !window.confirm(asked || question)) event.preventDefault();
  }, true);

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.hasAttribute("data-select-on-click")) target.select();
    var show = target.closest("[data-show-images]");
    if (!show) return;
    // This message's images only: the note sits right before its held HTML.
    var note = show.closest(".remote-images-note");
    var held = note && note.nextElementSibling;
    if (!held) return;
    held.querySelectorAll("img[data-remote-src]").forEach(function (img) {
      img.setAttribute("src", img.getAttribute("data-remote-src"));
      img.removeAttribute("data-remote-src");
      img.classList.remove("remote-image");
    });
    note.remove();
  });
})();
