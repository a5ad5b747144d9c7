// Text colour against its background for every visible element with its own text, outside the plots:
// returns the elements below WCAG AA (4.5:1; 3:1 for large text: 24px, or 18.66px bold).
() => {
  const lum = (c) => {
    const v = c.slice(0, 3).map((x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const background = (n) => {
    for (; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const n of document.querySelectorAll("body *")) {
    if (n.closest(".plot") || n.offsetParent === null) continue;
    if (!Array.from(n.childNodes).some((c) => c.nodeType === 3 && c.textContent.trim())) continue;
    const s = getComputedStyle(n);
    const l1 = lum(rgb(s.color)), l2 = lum(background(n));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(`${n.tagName}#${n.id}.${n.className}: ${ratio.toFixed(2)} '${n.textContent.trim().slice(0, 30)}'`);
  }
  return out;
}
