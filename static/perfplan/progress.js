// A background import's progress bar (perfplan.tasks): polls the page's JSON every second
// and, once the task is done, opens the page again to show the preview, errors or result.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) return;
  var bar = document.getElementById("import-progress-bar");
  var percent = document.getElementById("import-progress-percent");
  var stage = document.getElementById("import-progress-stage");
  var text = document.getElementById("import-progress-text");
  function show(progress) {
    bar.value = progress.percent;
    bar.textContent = progress.percent + "%";
    percent.textContent = progress.percent + "%";
    stage.textContent = progress.label;
    text.textContent = progress.text;
    box.dataset.stage = progress.stage;
  }
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.finished) {
          window.location.assign(box.dataset.doneUrl);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000); // a restart of the server: keep asking
      });
  }
  window.setTimeout(poll, 500);
})();
