#!/usr/bin/env node
// peer.js — the DuckDB peer of clickseg's benchmark (docs/benchmark.md).
//
//   node peer.js convert EVENTS.csv OUT.parquet   # CSV from bench_h5csv -> Parquet (not timed)
//   node peer.js job EVENTS.parquet [--threads 2] [--top 1000]
//
// `job` does what `clickseg run` does with its default configuration, in SQL:
// 30-minute gap sessionization (a gap strictly greater than 1800 s starts a
// new session; ties ordered by (ts, file row number), the row number being
// clickseg's global row index), per-session counts (events, duration,
// product views, searches, cart adds, purchases, revenue), the segment label
// by clickseg's default rules (src/rules.c rules_default, docs/config.md),
// per-user totals and the top users by revenue. It prints progress on stderr
// and one JSON object on stdout: wall_s (inside this process, from opening
// DuckDB to the top list), sessions, events, users, and per segment the
// sessions, events and revenue, which bench.sh checks against report.json.
//
// @duckdb/node-api is resolved through NODE_PATH (bench.sh installs it under
// the build tree from tests/bench/duckdb/package.json).
'use strict';

const { DuckDBInstance } = require('@duckdb/node-api');

const GAP_US = 1800n * 1000000n;

function usage(code) {
  const text = 'usage: node peer.js convert EVENTS.csv OUT.parquet\n' +
               '       node peer.js job EVENTS.parquet [--threads N] [--top K]\n';
  (code ? process.stderr : process.stdout).write(text);
  process.exit(code);
}

// A string literal for SQL (paths cannot be prepared parameters in COPY).
function lit(s) {
  return "'" + String(s).replace(/'/g, "''") + "'";
}

function num(v) {
  return typeof v === 'bigint' ? Number(v) : v;
}

async function open(threads) {
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  return db.connect();
}

async function rows(con, sql) {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjects();
}

async function convert(csv, parquet, threads) {
  const con = await open(threads);
  const t0 = process.hrtime.bigint();
  const tmp = parquet + '.tmp';
  // Insertion order is kept (DuckDB's default, set explicitly): the Parquet
  // row number is the CSV row number, i.e. clickseg's global row index.
  await con.run('SET preserve_insertion_order = true');
  await con.run(`COPY (SELECT * FROM read_csv(${lit(csv)}, header = true, columns = {
      'ts': 'BIGINT', 'user_id': 'UBIGINT', 'event_type': 'UTINYINT', 'product_id': 'UBIGINT',
      'category_id': 'UINTEGER', 'brand_id': 'UINTEGER', 'price': 'BIGINT',
      'session_id': 'UBIGINT'}))
    TO ${lit(tmp)} (FORMAT parquet)`);
  const [n] = await rows(con, `SELECT count(*) AS n FROM read_parquet(${lit(tmp)})`);
  require('fs').renameSync(tmp, parquet);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`peer.js: ${num(n.n)} rows to ${parquet} in ${s.toFixed(1)} s\n`);
  console.log(JSON.stringify({ rows: num(n.n), convert_s: s }));
}

// The default rules, first match wins (src/rules.c rules_default).
const SEGMENT_SQL = `CASE
    WHEN events >= 100 AND events * 60 // greatest(duration_s, 1) >= 20 THEN 'bot'
    WHEN events >= 1000 THEN 'bot'
    WHEN purchases >= 1 AND product_views <= 3 AND searches <= 1 AND events <= 12
      THEN 'immediate_buyer'
    WHEN product_views >= 3 THEN 'information_collector'
    WHEN searches >= 2 THEN 'information_collector'
    WHEN cart_adds >= 1 THEN 'information_collector'
    WHEN purchases >= 1 THEN 'information_collector'
    ELSE 'simple_browser' END`;

async function job(parquet, threads, top) {
  const t0 = process.hrtime.bigint();
  const lap = (what) => process.stderr.write(
    `peer.js: ${what} at ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)} s\n`);
  const con = await open(threads);
  // Sessions with their counts and segment. A session starts at a user's
  // first event and after every gap > 1800 s; its number is the running
  // count of starts in (ts, row) order within the user.
  await con.run(`CREATE TEMP TABLE sessions AS
    WITH ev AS (
      SELECT user_id, ts, event_type, price, file_row_number AS rn
      FROM read_parquet(${lit(parquet)}, file_row_number = true)
    ), marked AS (
      SELECT user_id, ts, event_type, price, rn,
             CASE WHEN ts - lag(ts) OVER w > ${GAP_US} THEN 1 ELSE 0 END AS starts
      FROM ev WINDOW w AS (PARTITION BY user_id ORDER BY ts, rn)
    ), numbered AS (
      SELECT user_id, ts, event_type, price,
             sum(starts) OVER (PARTITION BY user_id ORDER BY ts, rn
                               ROWS UNBOUNDED PRECEDING) AS session_no
      FROM marked
    ), counted AS (
      SELECT user_id, session_no,
             count(*) AS events,
             (max(ts) - min(ts)) // 1000000 AS duration_s,
             count(*) FILTER (WHERE event_type = 1) AS product_views,
             count(*) FILTER (WHERE event_type = 2) AS searches,
             count(*) FILTER (WHERE event_type = 3) AS cart_adds,
             count(*) FILTER (WHERE event_type = 6) AS purchases,
             coalesce(sum(price) FILTER (WHERE event_type = 6), 0) AS revenue,
             min(ts) AS first_ts, max(ts) AS last_ts
      FROM numbered GROUP BY user_id, session_no
    )
    SELECT *, ${SEGMENT_SQL} AS segment FROM counted`);
  lap('sessions');
  const segs = await rows(con, `SELECT segment, count(*) AS sessions, sum(events) AS events,
      sum(revenue) AS revenue FROM sessions GROUP BY segment ORDER BY segment`);
  // Per-user totals; bot sessions are kept out of the business figures, as
  // in clickseg's report.
  await con.run(`CREATE TEMP TABLE users AS
    SELECT user_id, count(*) AS sessions,
           count(*) FILTER (WHERE segment = 'bot') AS bot_sessions,
           count(*) FILTER (WHERE segment = 'immediate_buyer') AS buyer_sessions,
           count(*) FILTER (WHERE segment = 'information_collector') AS collector_sessions,
           count(*) FILTER (WHERE segment = 'simple_browser') AS browser_sessions,
           coalesce(sum(purchases) FILTER (WHERE segment <> 'bot'), 0) AS purchases,
           coalesce(sum(revenue) FILTER (WHERE segment <> 'bot'), 0) AS revenue,
           min(first_ts) AS first_seen, max(last_ts) AS last_seen
    FROM sessions GROUP BY user_id`);
  const topUsers = await rows(con, `SELECT user_id, revenue, sessions FROM users
    ORDER BY revenue DESC, user_id LIMIT ${top}`);
  const [tot] = await rows(con, `SELECT count(*) AS users,
      count(*) FILTER (WHERE sessions > bot_sessions) AS business_users FROM users`);
  lap('users and top list');
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;

  const out = { wall_s: wall, threads, sessions: 0, events: 0, users: num(tot.users),
                business_users: num(tot.business_users), segments: {},
                top: topUsers.length,
                top1: topUsers.length ? { user_id: String(topUsers[0].user_id),
                                         revenue: num(topUsers[0].revenue) } : null };
  for (const s of segs) {
    out.segments[s.segment] = { sessions: num(s.sessions), events: num(s.events),
                                revenue: num(s.revenue) };
    out.sessions += num(s.sessions);
    out.events += num(s.events);
  }
  for (const s of segs)
    process.stderr.write(`peer.js: ${s.segment}: ${num(s.sessions)} sessions\n`);
  process.stderr.write(`peer.js: ${out.sessions} sessions, ${out.events} events, ` +
                       `${out.users} users; ${wall.toFixed(2)} s with ${threads} threads\n`);
  console.log(JSON.stringify(out));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 0 || args[0] === '-h' || args[0] === '--help')
    usage(args.length === 0 ? 2 : 0);
  let threads = 2, top = 1000;
  const pos = [];
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--threads' && i + 1 < args.length) threads = parseInt(args[++i], 10);
    else if (args[i] === '--top' && i + 1 < args.length) top = parseInt(args[++i], 10);
    else if (args[i].startsWith('-')) usage(2);
    else pos.push(args[i]);
  }
  if (!(threads >= 1) || !(top >= 1)) usage(2);
  if (args[0] === 'convert' && pos.length === 2) return convert(pos[0], pos[1], threads);
  if (args[0] === 'job' && pos.length === 1) return job(pos[0], threads, top);
  usage(2);
}

main().catch((e) => {
  process.stderr.write(`peer.js: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
