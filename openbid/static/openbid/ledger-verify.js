/* Ledger explorer: check every inclusion proof on the page in the browser, with WebCrypto.
 *
 * For each row it recomputes the leaf hash SHA-256(0x00 || leaf) from the leaf bytes shown,
 * compares it with the leaf hash the server claims, then folds the proof into a root exactly as
 * RFC 9162 section 2.1.3.2 says and compares that with the checkpoint's root hash. No build step,
 * no dependencies: read it, it is short. Texts come from the table's data-text-* attributes, so
 * the page's language is kept.
 */
(function () {
  "use strict";

  function fromBase64(text) {
    var binary = atob(text);
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function toHex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function concat(parts) {
    var length = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (p) { out.set(p, offset); offset += p.length; });
    return out;
  }

  function sha256(parts) {
    return crypto.subtle.digest("SHA-256", concat(parts)).then(function (d) {
      return new Uint8Array(d);
    });
  }

  var LEAF = new Uint8Array([0]);
  var NODE = new Uint8Array([1]);

  function equal(a, b) {
    if (a.length !== b.length) return false;
    var diff = 0;
    for (var i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  /* RFC 9162 2.1.3.2. BigInt keeps indexes above 2^31 exact under the bit operations. */
  async function verifyInclusion(leafHash, index, size, proof, root) {
    if (index >= size) return false;
    var fn = index;
    var sn = size - 1n;
    var r = leafHash;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (p.length !== 32 || sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256([NODE, p, r]);
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        r = await sha256([NODE, r, p]);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equal(r, root);
  }

  /* state: "verified", "failed", "pending" (not in a checkpoint yet) or "unavailable". */
  function mark(row, table, state) {
    var cell = row.querySelector("[data-browser-result]");
    var badge = document.createElement("span");
    badge.className = "badge" + (state === "verified" ? " verified" : state === "failed" ? " suspended" : "");
    badge.textContent = table.getAttribute("data-text-" + state) || state;
    if (cell) cell.replaceChildren(badge);
    row.setAttribute("data-browser-verified", state);
  }

  async function checkRow(row, table, root, size) {
    if (row.hasAttribute("data-pending")) return mark(row, table, "pending");
    var leafText = row.querySelector("[data-leaf]").textContent;
    var leaf = new TextEncoder().encode(leafText);
    var leafHash = await sha256([LEAF, leaf]);
    if (toHex(leafHash) !== row.getAttribute("data-leaf-hash")) return mark(row, table, "failed");
    var proofText = row.getAttribute("data-proof").trim();
    var proof = proofText ? proofText.split(/\s+/).map(fromBase64) : [];
    var index = BigInt(row.getAttribute("data-index"));
    var ok = await verifyInclusion(leafHash, index, size, proof, root);
    mark(row, table, ok ? "verified" : "failed");
  }

  function run() {
    var table = document.getElementById("ledger-entries");
    if (!table) return;
    var rows = table.querySelectorAll("tr[data-ledger-entry]");
    if (!(window.crypto && crypto.subtle && window.TextEncoder && window.BigInt)) {
      rows.forEach(function (row) { mark(row, table, "unavailable"); });
      return;
    }
    var root = fromBase64(table.getAttribute("data-root"));
    var size = BigInt(table.getAttribute("data-size"));
    rows.forEach(function (row) {
      checkRow(row, table, root, size).catch(function () { mark(row, table, "failed"); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
