// The one-click answer page records its answer at once. Done by the page (not by following the
// link) so that mail scanners, which fetch every link of a message, never answer for a customer.
(function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.querySelector("button").disabled = true;
    form.submit();
  }
})();
