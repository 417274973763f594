#include "bank/ledger.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <tuple>

#include <nlohmann/json.hpp>

namespace souk::bank {
namespace {

using json = nlohmann::json;
using persistence::status;

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS payments(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL UNIQUE,
  amount INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL,
  captured INTEGER NOT NULL, refunded INTEGER NOT NULL, callback_url TEXT NOT NULL,
  created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency(
  op TEXT NOT NULL, key TEXT NOT NULL, answer TEXT NOT NULL, created INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(op, key));
CREATE TABLE IF NOT EXISTS cancelled_orders(order_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, payment_id TEXT NOT NULL,
  order_id TEXT NOT NULL, status TEXT NOT NULL, amount INTEGER NOT NULL,
  callback_url TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0,
  refunded INTEGER NOT NULL DEFAULT -1, created INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

json to_json(const payment& p) {
  return {{"payment_id", p.payment_id}, {"order_id", p.order_id},
          {"amount", p.amount},         {"currency", p.currency},
          {"status", p.status},         {"captured", p.captured},
          {"refunded", p.refunded},     {"callback_url", p.callback_url},
          {"created", p.created}};
}

payment from_json(const json& j) {
  payment p;
  p.payment_id = j.value("payment_id", "");
  p.order_id = j.value("order_id", "");
  p.amount = j.value("amount", std::int64_t{0});
  p.currency = j.value("currency", "RUB");
  p.status = j.value("status", "");
  p.captured = j.value("captured", std::int64_t{0});
  p.refunded = j.value("refunded", std::int64_t{0});
  p.callback_url = j.value("callback_url", "");
  p.created = j.value("created", std::int64_t{0});
  return p;
}

outcome failed(std::string code, payment p = {}) {
  outcome o;
  o.code = std::move(code);
  o.pay = std::move(p);
  return o;
}

} // namespace

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string event::body() const {
  json j{{"event_id", event_id},
         {"payment_id", payment_id},
         {"order_id", order_id},
         {"status", status},
         {"amount", amount}};
  if (refunded >= 0)
    j["refunded"] = refunded;
  return j.dump();
}

persistence::result<std::unique_ptr<ledger>> ledger::open(const std::string& path) {
  auto conn = persistence::connection::open(path, true);
  if (!conn)
    return conn.error();
  auto db = std::move(*conn);
  // WAL: readers of the file never block the bank's writes; NORMAL is durable across a
  // process crash, which is what a simulated bank needs.
  for (auto sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000", schema})
    if (auto st = db.exec(sql); !st.ok())
      return st;
  // Columns a bank file from before them lacks: events' refunded total, and the times that
  // retention goes by, with which the rows already there count as written now (so they are kept
  // a full retention). `then` runs only when the column was added.
  auto add_column = [&db](const char* table, const char* column, const char* ddl,
                          const std::string& then) {
    if (auto cols = db.cached(std::string{"SELECT 1 FROM pragma_table_info('"} + table +
                              "') WHERE name = '" + column + "'");
        cols && cols->step())
      return status{};
    auto st = db.exec("ALTER TABLE " + std::string{table} + " ADD COLUMN " + ddl);
    return st.ok() && !then.empty() ? db.exec(then) : st;
  };
  auto now = std::to_string(wall_clock_ms());
  for (auto [table, column, ddl, then] :
       {std::tuple{"events", "refunded", "refunded INTEGER NOT NULL DEFAULT -1", std::string{}},
        std::tuple{"events", "created", "created INTEGER NOT NULL DEFAULT 0",
                   "UPDATE events SET created = " + now},
        std::tuple{"idempotency", "created", "created INTEGER NOT NULL DEFAULT 0",
                   "UPDATE idempotency SET created = " + now}})
    if (auto st = add_column(table, column, ddl, then); !st.ok())
      return st;
  std::unique_ptr<ledger> out{new ledger{std::move(db)}};
  auto checkpoint_db = persistence::connection::open(path, false);
  if (!checkpoint_db)
    return checkpoint_db.error();
  if (auto st = checkpoint_db->exec("PRAGMA busy_timeout=5000"); !st.ok())
    return st;
  // SQLite's defaults for the thresholds (1,000 pages), and a cap of 10,000.
  out->checkpointer_ = std::make_unique<persistence::checkpointer>(std::move(*checkpoint_db), 1'000,
                                                                   10'000, "bank-checkpoint");
  out->checkpointer_->install(out->db_);
  auto tag = out->meta("tag");
  if (tag) {
    out->tag_ = *tag;
  } else {
    std::random_device rd;
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%06x", static_cast<unsigned>(rd() & 0xffffff));
    out->tag_ = buf;
    if (auto st = out->set_meta("tag", out->tag_); !st.ok())
      return st;
  }
  return out;
}

ledger::~ledger() {
  if (checkpointer_) {
    persistence::checkpointer::uninstall(db_);
    checkpointer_->stop();
  }
}

template <class Body>
outcome ledger::transact(Body body) {
  // The transaction statements and the queries below are cached: a payment's every call
  // would otherwise parse each of them again.
  if (!db_.run("BEGIN IMMEDIATE").ok())
    return failed("store_failed");
  outcome o = body();
  if (o.code == "store_failed") {
    db_.run("ROLLBACK");
    o.events.clear();
    return o;
  }
  if (!db_.run("COMMIT").ok()) {
    db_.run("ROLLBACK");
    return failed("store_failed");
  }
  return o;
}

std::optional<payment> ledger::load(const char* where, const std::string& value) {
  auto st = db_.cached(std::string{"SELECT id, order_id, amount, currency, status, captured, "
                                   "refunded, callback_url, created FROM payments WHERE "} +
                       where + " = ?");
  if (!st)
    return std::nullopt;
  st->bind(1, value);
  if (!st->step())
    return std::nullopt;
  payment p;
  p.payment_id = st->column_text(0);
  p.order_id = st->column_text(1);
  p.amount = st->column_int(2);
  p.currency = st->column_text(3);
  p.status = st->column_text(4);
  p.captured = st->column_int(5);
  p.refunded = st->column_int(6);
  p.callback_url = st->column_text(7);
  p.created = st->column_int(8);
  return p;
}

std::optional<payment> ledger::find(const std::string& payment_id) {
  return load("id", payment_id);
}

std::optional<payment> ledger::find_by_order(const std::string& order_id) {
  return load("order_id", order_id);
}

std::optional<outcome> ledger::replay(const char* op, const std::string& key) {
  auto st = db_.cached("SELECT answer FROM idempotency WHERE op = ? AND key = ?");
  if (!st)
    return std::nullopt;
  st->bind(1, std::string_view{op}).bind(2, key);
  if (!st->step())
    return std::nullopt;
  auto j = json::parse(st->column_text(0), nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  outcome o;
  o.code = j.value("code", "");
  o.pay = from_json(j.value("payment", json::object()));
  o.replayed = true;
  return o;
}

status ledger::remember(const char* op, const std::string& key, const outcome& o) {
  auto st =
      db_.cached("INSERT OR IGNORE INTO idempotency(op, key, answer, created) VALUES (?, ?, ?, ?)");
  if (!st)
    return db_.last_error("prepare");
  st->bind(1, std::string_view{op})
      .bind(2, key)
      .bind(3, json{{"code", o.code}, {"payment", to_json(o.pay)}}.dump())
      .bind(4, clock_());
  st->step();
  return st->error();
}

status ledger::save(const payment& p) {
  auto st = db_.cached(
      "INSERT INTO payments(id, order_id, amount, currency, status, captured, refunded, "
      "callback_url, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
      "status = excluded.status, captured = excluded.captured, refunded = excluded.refunded");
  if (!st)
    return db_.last_error("prepare");
  st->bind(1, p.payment_id)
      .bind(2, p.order_id)
      .bind(3, p.amount)
      .bind(4, p.currency)
      .bind(5, p.status)
      .bind(6, p.captured)
      .bind(7, p.refunded)
      .bind(8, p.callback_url)
      .bind(9, p.created);
  st->step();
  return st->error();
}

std::string ledger::next_id(const char* prefix, const char* table) {
  auto st = db_.cached(std::string{"SELECT COALESCE(MAX(seq), 0) + 1 FROM "} + table);
  auto n = st && st->step() ? st->column_int(0) : 1;
  return std::string{prefix} + tag_ + "_" + std::to_string(n);
}

status ledger::add_event(event& e) {
  e.event_id = next_id("ev_", "events");
  auto st = db_.cached("INSERT INTO events(id, payment_id, order_id, status, amount, "
                       "callback_url, refunded, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st)
    return db_.last_error("prepare");
  st->bind(1, e.event_id)
      .bind(2, e.payment_id)
      .bind(3, e.order_id)
      .bind(4, e.status)
      .bind(5, e.amount)
      .bind(6, e.callback_url)
      .bind(7, e.refunded)
      .bind(8, clock_());
  st->step();
  return st->error();
}

outcome ledger::create(const std::string& order_id, std::int64_t amount,
                       const std::string& currency, const std::string& callback_url,
                       const std::string& key, bool refuse, std::int64_t now_ms) {
  return transact([&]() -> outcome {
    if (auto again = replay("create", key))
      return *again;
    outcome o;
    if (auto known = find_by_order(order_id)) {
      o.pay = *known;
    } else if (amount <= 0) {
      return failed("invalid_amount");
    } else if (refuse) {
      o = failed("refused");
      o.pay.order_id = order_id;
      o.pay.amount = amount;
      o.pay.currency = currency;
      o.pay.status = "declined";
    } else {
      payment p;
      p.payment_id = next_id("pay_", "payments");
      p.order_id = order_id;
      p.amount = amount;
      p.currency = currency;
      p.callback_url = callback_url;
      p.created = now_ms;
      // A cancel that overtook this create (the saga's unknown-outcome rule) wins.
      auto cancelled = db_.cached("SELECT 1 FROM cancelled_orders WHERE order_id = ?");
      if (!cancelled)
        return failed("store_failed");
      cancelled->bind(1, order_id);
      if (cancelled->step())
        p.status = "cancelled";
      if (!save(p).ok())
        return failed("store_failed");
      o.pay = p;
    }
    if (!remember("create", key, o).ok())
      return failed("store_failed");
    return o;
  });
}

outcome ledger::decide(const std::string& payment_id, bool approve, bool decline_anyway) {
  return transact([&]() -> outcome {
    auto p = find(payment_id);
    if (!p)
      return failed("unknown_payment");
    if (p->status != "pending")
      return failed("not_pending", *p);
    if (approve && !decline_anyway) {
      p->status = "captured";
      p->captured = p->amount;
    } else {
      p->status = "declined";
    }
    if (!save(*p).ok())
      return failed("store_failed");
    event e{"", p->payment_id, p->order_id, p->status, p->amount, p->callback_url};
    if (!add_event(e).ok())
      return failed("store_failed");
    outcome o;
    o.pay = *p;
    o.events.push_back(std::move(e));
    return o;
  });
}

outcome ledger::refund(const std::string& payment_id, std::int64_t amount, const std::string& key) {
  return transact([&]() -> outcome {
    auto scoped = payment_id + "\n" + key; // a key names one operation on one payment
    if (auto again = replay("refund", scoped))
      return *again;
    auto p = find(payment_id);
    if (!p)
      return failed("unknown_payment");
    if (amount <= 0)
      return failed("invalid_amount", *p);
    outcome o;
    if (p->status == "captured" || p->status == "partially_refunded") {
      auto part = std::min(amount, p->captured - p->refunded);
      p->refunded += part;
      p->status = p->refunded >= p->captured ? "refunded" : "partially_refunded";
      if (!save(*p).ok())
        return failed("store_failed");
      event e{"", p->payment_id, p->order_id, "refunded", part, p->callback_url, p->refunded};
      if (!add_event(e).ok())
        return failed("store_failed");
      o.events.push_back(std::move(e));
    }
    o.pay = *p;
    if (!remember("refund", scoped, o).ok())
      return failed("store_failed");
    return o;
  });
}

outcome ledger::cancel(const std::string& payment_id, const std::string& key) {
  return transact([&]() -> outcome {
    auto scoped = payment_id + "\n" + key;
    if (auto again = replay("cancel", scoped))
      return *again;
    auto p = find(payment_id);
    if (!p)
      return failed("unknown_payment");
    if (p->status == "pending") {
      p->status = "cancelled";
      if (!save(*p).ok())
        return failed("store_failed");
    }
    outcome o;
    o.pay = *p;
    if (!remember("cancel", scoped, o).ok())
      return failed("store_failed");
    return o;
  });
}

outcome ledger::cancel_order(const std::string& order_id, const std::string& key) {
  return transact([&]() -> outcome {
    auto scoped = "order " + order_id + "\n" + key;
    if (auto again = replay("cancel", scoped))
      return *again;
    outcome o;
    if (auto p = find_by_order(order_id)) {
      if (p->status == "pending") {
        p->status = "cancelled";
        if (!save(*p).ok())
          return failed("store_failed");
      }
      o.pay = *p;
    } else {
      auto st = db_.cached("INSERT OR IGNORE INTO cancelled_orders(order_id) VALUES (?)");
      if (!st)
        return failed("store_failed");
      st->bind(1, order_id);
      st->step();
      if (!st->error().ok())
        return failed("store_failed");
      o.pay.order_id = order_id;
      o.pay.status = "none";
    }
    if (!remember("cancel", scoped, o).ok())
      return failed("store_failed");
    return o;
  });
}

std::vector<event> ledger::undelivered() {
  std::vector<event> out;
  auto st = db_.cached("SELECT id, payment_id, order_id, status, amount, callback_url, refunded "
                       "FROM events WHERE delivered = 0 ORDER BY seq");
  while (st && st->step())
    out.push_back({st->column_text(0), st->column_text(1), st->column_text(2), st->column_text(3),
                   st->column_int(4), st->column_text(5), st->column_int(6)});
  return out;
}

void ledger::mark_delivered(const std::string& event_id) {
  auto st = db_.cached("UPDATE events SET delivered = 1 WHERE id = ?");
  if (!st)
    return;
  st->bind(1, event_id);
  st->step();
}

std::optional<std::string> ledger::meta(const std::string& key) {
  auto st = db_.cached("SELECT value FROM meta WHERE key = ?");
  if (!st)
    return std::nullopt;
  st->bind(1, key);
  if (!st->step())
    return std::nullopt;
  return st->column_text(0);
}

ledger::pruned ledger::prune(std::int64_t older_than_ms, std::int64_t max_rows) {
  pruned out;
  if (!db_.run("BEGIN IMMEDIATE").ok())
    return out;
  // Each looks at the `max_rows` oldest rows only (by rowid, which is insertion order), so one
  // call stays short however large the table: the service calls again while a call was full.
  auto keys = db_.cached("DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM (SELECT "
                         "rowid, created FROM idempotency ORDER BY rowid LIMIT ?2) WHERE "
                         "created < ?1)");
  // The newest event stays: event ids are numbered from the largest seq left.
  auto events = db_.cached(
      "DELETE FROM events WHERE seq IN (SELECT seq FROM (SELECT seq, created, delivered FROM "
      "events ORDER BY seq LIMIT ?2) WHERE delivered = 1 AND created < ?1 AND seq < (SELECT "
      "MAX(seq) FROM events))");
  bool ok = keys && events;
  if (ok) {
    keys->bind(1, older_than_ms).bind(2, max_rows);
    keys->step();
    ok = keys->error().ok();
    out.idempotency_keys = ok ? db_.changes() : 0;
  }
  if (ok) {
    events->bind(1, older_than_ms).bind(2, max_rows);
    events->step();
    ok = events->error().ok();
    out.events = ok ? db_.changes() : 0;
  }
  if (!ok || !db_.run("COMMIT").ok()) {
    db_.run("ROLLBACK");
    return {};
  }
  return out;
}

status ledger::set_meta(const std::string& key, const std::string& value) {
  auto st = db_.cached("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                       "SET value = excluded.value");
  if (!st)
    return db_.last_error("prepare");
  st->bind(1, key).bind(2, value);
  st->step();
  return st->error();
}

} // namespace souk::bank
