"use strict";
// The one place the page writes numbers itself (sweep rows, labels). Plans come worded by the server, which uses the
// presenters' money notation; this follows the same rules: en ¥48.2M / $7M / ¥1.23B, zh ¥4,820万 / ¥4.82亿.

const FMT_SYMBOL = { CNY: "¥", USD: "$" };
const FMT_STEPS = {
  en: [[1e9, "B", 2], [1e6, "M", 2], [1e3, "K", 1]],
  zh: [[1e8, "亿", 2], [1e4, "万", 0]],
};

function fmtTrim(x, digits) {
  const text = x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

// An amount with its currency symbol in the reader's notation; "—" when unknown.
function fmtMoney(value, currency, lang) {
  if (value === null || value === undefined || !isFinite(Number(value))) return "—";
  const v = Number(value);
  const sym = FMT_SYMBOL[currency] || (currency ? `${currency} ` : "");
  const a = Math.abs(v);
  let body = Math.round(a).toLocaleString("en-US");
  for (const [size, suffix, digits] of FMT_STEPS[lang === "zh" ? "zh" : "en"]) {
    if (a >= size) { body = fmtTrim(a / size, digits) + suffix; break; }
  }
  return `${v < 0 ? "-" : ""}${sym}${body}`;
}

// A count or measure with grouping; `digits` decimals at most (1 by default).
function fmtNum(value, digits) {
  if (value === null || value === undefined || value === "" || !isFinite(Number(value))) return "—";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 1 : digits });
}

// Days: one decimal below 10, whole days above; "163 days" / "163 天".
function fmtDays(value, lang) {
  if (value === null || value === undefined || !isFinite(Number(value))) return "—";
  const v = Number(value);
  const n = Math.abs(v) < 10 ? fmtNum(v, 1) : fmtNum(v, 0);
  return lang === "zh" ? `${n} 天` : `${n} days`;
}

// A swept value as the reader expects it: budgets as money, others as written.
function fmtSwept(key, value, currency, lang) {
  if (typeof value === "number" && /^budget/.test(key) && currency) return fmtMoney(value, currency, lang);
  return value === null || value === undefined ? "—" : String(value);
}

// Today in the browser's time zone as YYYY-MM-DD (what <input type=date> takes).
function localIsoDate(d) {
  const day = d || new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}
