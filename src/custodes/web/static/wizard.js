// The disclosure wizard: re-check the request as the officer types, and show each finding beside its part.
// Progressive enhancement only: without JavaScript, "Save and check" does the same on the server.
(function () {
  "use strict";
  const form = document.querySelector("form[data-live-findings]");
  if (!form) return;
  const url = form.dataset.liveFindings;
  const titles = { ready: "no findings", blocked: "blocked", needs_action: "action needed" };
  let timer = null;
  let sequence = 0;

  function findingItem(finding) {
    const item = document.createElement("li");
    item.className = "finding " + finding.severity;
    const severity = document.createElement("span");
    severity.className = "severity";
    severity.textContent = finding.severity === "block" ? "Blocks" : "Action";
    const policy = document.createElement("span");
    policy.className = "policy";
    policy.textContent = finding.code + " · " + finding.policy;
    item.append(severity, " " + finding.message + " ", policy);
    return item;
  }

  function show(result) {
    for (const slot of form.querySelectorAll(".findings-slot")) {
      const mine = result.findings.filter((f) => f.where === slot.dataset.where);
      slot.replaceChildren();
      if (mine.length) {
        const list = document.createElement("ul");
        list.className = "findings";
        list.append(...mine.map(findingItem));
        slot.append(list);
      }
    }
    const summary = document.getElementById("all-findings");
    if (!summary || !result.decision) return;
    summary.className = "panel decision " + result.decision;
    summary.querySelector(".decision-title").textContent = titles[result.decision];
    const list = summary.querySelector("ul.findings.all");
    list.replaceChildren(...result.findings.map(findingItem));
    const clear = summary.querySelector(".all-clear");
    if (clear) clear.hidden = result.findings.length > 0;
  }

  async function check() {
    const mine = ++sequence;
    const response = await fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" });
    if (!response.ok || mine !== sequence) return;
    show(await response.json());
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 500);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
