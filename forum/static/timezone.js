// The browser's time zone, where a form asks for it: registration sends it quietly (hidden
// field), Settings offers it as a one-click choice. Without JavaScript times stay in UTC
// until the member picks a zone.
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!zone) return;
  var hidden = document.querySelector("input[type=hidden][name=time_zone]");
  if (hidden && !hidden.value) hidden.value = zone;
  var select = document.getElementById("time_zone");
  var button = document.getElementById("time-zone-device");
  if (!select || !button) return;
  var option = select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]');
  if (select.value === zone) return;
  if (!option) {
    // An older name of a listed zone ("Asia/Calcutta"): offered as the device says it; the
    // server stores the zone it stands for.
    option = document.createElement("option");
    option.value = option.textContent = zone;
    select.appendChild(option);
  }
  button.textContent = "Use this device's zone (" + zone.replace(/_/g, " ") + ")";
  button.hidden = false;
  button.addEventListener("click", function () {
    select.value = zone;
    select.focus();
  });
})();
