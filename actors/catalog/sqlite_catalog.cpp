#include "actors/catalog/sqlite_catalog.hpp"

#include "actors/catalog/demo_catalog.hpp"
#include "base/log.hpp"
#include "base/time.hpp"

#include <algorithm>
#include <future>

#include <nlohmann/json.hpp>

namespace souk::actors::catalog {

using persistence::connection;
using persistence::statement;
using persistence::status;

namespace {

/// Work bounds of one text query: at most this many matches are ranked.
constexpr int max_text_hits = 50'000;

using attributes = std::vector<std::pair<std::string, std::string>>;

std::string attributes_json(const attributes& attrs) {
  nlohmann::ordered_json obj = nlohmann::ordered_json::object();
  for (auto& [k, v] : attrs)
    obj[k] = v;
  return obj.dump();
}

attributes parse_attributes(const std::string& text) {
  attributes out;
  auto obj = nlohmann::ordered_json::parse(text, nullptr, false);
  if (obj.is_object())
    for (auto& [k, v] : obj.items())
      out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

status step_done(statement& stmt) {
  stmt.step();
  auto st = stmt.error();
  stmt.reset();
  return st;
}

/// Inserts one product with its SKUs and stock (the FTS row too unless `bulk`).
status insert_product(connection& db, const product_spec& p, bool bulk) {
  auto min_price = p.skus.empty() ? std::int64_t{0} : p.skus.front().price;
  for (auto& s : p.skus)
    min_price = std::min(min_price, s.price);
  auto ins =
      db.prepare("INSERT INTO products (id, title, description, brand, category, attributes,"
                 " rating, reviews, created_at, price) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  ins.bind(1, p.id).bind(2, p.title).bind(3, p.description).bind(4, p.brand).bind(5, p.category);
  ins.bind(6, attributes_json(p.attributes));
  ins.bind(7, static_cast<std::int64_t>(p.rating * 10)).bind(8, p.reviews).bind(9, p.created_ms);
  ins.bind(10, min_price);
  if (auto st = step_done(ins); !st.ok())
    return st;
  if (!bulk) {
    auto fts = db.prepare(
        "INSERT INTO products_fts (rowid, title, brand, description) VALUES (?1, ?2, ?3, ?4)");
    fts.bind(1, p.id).bind(2, p.title).bind(3, p.brand).bind(4, p.description);
    if (auto st = step_done(fts); !st.ok())
      return st;
  }
  auto sku = db.prepare("INSERT INTO skus (sku, product_id, price, attributes, position)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)");
  auto stock = db.prepare("INSERT INTO stock (sku, warehouse_id, on_hand) VALUES (?1, ?2, ?3)");
  std::int64_t pos = 0;
  for (auto& s : p.skus) {
    sku.bind(1, s.sku).bind(2, p.id).bind(3, s.price).bind(4, attributes_json(s.attributes));
    sku.bind(5, pos++);
    if (auto st = step_done(sku); !st.ok())
      return st;
    for (auto& [wh, qty] : s.stock) {
      stock.bind(1, s.sku).bind(2, wh).bind(3, qty);
      if (auto st = step_done(stock); !st.ok())
        return st;
    }
  }
  return {};
}

} // namespace

// -- read connections --

struct sqlite_catalog::reader {
  connection db;
  statement match;
  statement product;
  statement skus;
  statement match_ids;
};

/// A read connection borrowed from the pool for one call; returned on destruction.
class sqlite_catalog::reader_lease {
public:
  reader_lease(sqlite_catalog* owner, std::unique_ptr<reader> r)
      : owner_(owner), r_(std::move(r)) {}
  reader_lease(reader_lease&&) = default;
  ~reader_lease() {
    if (r_) {
      std::lock_guard<std::mutex> guard{owner_->pool_mtx_};
      owner_->pool_.push_back(std::move(r_));
    }
  }
  reader* operator->() { return r_.get(); }
  explicit operator bool() const { return r_ != nullptr; }

private:
  sqlite_catalog* owner_;
  std::unique_ptr<reader> r_;
};

sqlite_catalog::reader_lease sqlite_catalog::lease() {
  {
    std::lock_guard<std::mutex> guard{pool_mtx_};
    if (!pool_.empty()) {
      auto r = std::move(pool_.back());
      pool_.pop_back();
      return {this, std::move(r)};
    }
  }
  auto conn = persistence::open_connection(store_.path(), settings_, false);
  if (!conn) {
    base::log_error("catalog reader failed", {{"error", conn.error().message}});
    return {this, nullptr};
  }
  auto r = std::make_unique<reader>();
  r->db = std::move(*conn);
  r->match = r->db.prepare("SELECT rowid, bm25(products_fts, 10.0, 4.0, 1.0) FROM products_fts"
                           " WHERE products_fts MATCH ?1 LIMIT ?2");
  r->product = r->db.prepare("SELECT title, description, brand, category, attributes, rating,"
                             " reviews, created_at, price FROM products WHERE id = ?1");
  r->skus = r->db.prepare(
      "SELECT sku, price, attributes FROM skus WHERE product_id = ?1 ORDER BY position");
  r->match_ids =
      r->db.prepare("SELECT rowid FROM products_fts WHERE products_fts MATCH ?1 LIMIT 2000");
  return {this, std::move(r)};
}

// -- opening and loading --

sqlite_catalog::sqlite_catalog(persistence::store& store, const config::store_settings& settings,
                               const config::catalog_settings& catalog)
    : store_(store), settings_(settings), catalog_settings_(catalog) {}

sqlite_catalog::~sqlite_catalog() = default;

persistence::result<std::unique_ptr<sqlite_catalog>>
sqlite_catalog::open(persistence::store& store, const config::store_settings& settings,
                     const config::catalog_settings& catalog) {
  std::unique_ptr<sqlite_catalog> self{new sqlite_catalog(store, settings, catalog)};
  auto r = self->lease();
  if (!r)
    return status{persistence::errc::open_failed, "catalog: cannot open a read connection"};
  auto regions = r->db.query_int("SELECT count(*) FROM regions");
  if (!regions)
    return regions.error();
  if (*regions == 0) {
    // A new catalog: the demo marketplace's geography and category tree.
    auto st = self->write({[](connection& db) -> status {
      auto reg = db.prepare("INSERT INTO regions (id, name) VALUES (?1, ?2)");
      for (auto& x : demo_regions()) {
        reg.bind(1, x.id).bind(2, x.name);
        if (auto s = step_done(reg); !s.ok())
          return s;
      }
      auto days = db.prepare(
          "INSERT INTO delivery_days (from_region, to_region, days) VALUES (?1, ?2, ?3)");
      for (auto& a : demo_regions())
        for (auto& b : demo_regions()) {
          days.bind(1, a.id).bind(2, b.id).bind(3, std::int64_t{demo_delivery_days(a.id, b.id)});
          if (auto s = step_done(days); !s.ok())
            return s;
        }
      auto wh = db.prepare("INSERT INTO warehouses (id, name, region) VALUES (?1, ?2, ?3)");
      for (auto& x : demo_warehouses()) {
        wh.bind(1, x.id).bind(2, x.name).bind(3, x.region);
        if (auto s = step_done(wh); !s.ok())
          return s;
      }
      auto cat =
          db.prepare("INSERT INTO categories (id, name, parent, position) VALUES (?1, ?2, ?3, ?4)");
      std::int64_t pos = 0;
      for (auto& x : demo_categories()) {
        cat.bind(1, x.id).bind(2, x.name).bind(3, x.parent).bind(4, pos++);
        if (auto s = step_done(cat); !s.ok())
          return s;
      }
      return {};
    }});
    if (!st.ok())
      return st;
  }
  if (auto st = self->load(); !st.ok())
    return st;
  if (auto st = self->load_terms(); !st.ok())
    return st;
  return self;
}

persistence::status sqlite_catalog::load() {
  auto r = lease();
  if (!r)
    return {persistence::errc::open_failed, "catalog: cannot open a read connection"};
  auto& db = r->db;
  {
    auto q = db.prepare("SELECT id, name FROM regions ORDER BY name");
    while (q.step())
      regions_.push_back({q.column_text(0), q.column_text(1)});
    auto w = db.prepare("SELECT id, name, region FROM warehouses");
    while (w.step()) {
      warehouses_.push_back({w.column_text(0), w.column_text(1), w.column_text(2)});
      region_of_warehouse_[w.column_text(0)] = w.column_text(2);
    }
  }
  std::vector<category_def> cats;
  auto c = db.prepare("SELECT id, name, parent FROM categories ORDER BY position");
  while (c.step())
    cats.push_back({c.column_text(0), c.column_text(1), c.column_text(2)});
  index_.set_categories(cats);

  {
    std::lock_guard<std::mutex> guard{stock_mtx_};
    auto s = db.prepare("SELECT s.sku, s.product_id, k.warehouse_id, k.on_hand, k.reserved"
                        " FROM skus s LEFT JOIN stock k ON k.sku = s.sku");
    while (s.step()) {
      auto sku = s.column_text(0);
      auto pid = s.column_int(1);
      if (product_of_sku_.emplace(sku, pid).second)
        skus_of_product_[pid].push_back(sku);
      if (!s.column_is_null(2))
        stock_[sku].push_back({s.column_text(2), s.column_int(3), s.column_int(4)});
    }
    if (!s.error().ok())
      return s.error();
  }
  auto p = db.prepare("SELECT id, title, brand, category, price, rating, reviews, created_at"
                      " FROM products");
  while (p.step()) {
    auto id = p.column_int(0);
    index_.upsert({id, p.column_text(1), p.column_text(2), p.column_text(3), p.column_int(4),
                   static_cast<double>(p.column_int(5)) / 10.0, p.column_int(6), p.column_int(7),
                   product_in_stock(id)});
    next_id_ = std::max(next_id_, id + 1);
  }
  return p.error();
}

persistence::status sqlite_catalog::write(persistence::custom_write op) {
  std::promise<status> done;
  auto fut = done.get_future();
  persistence::write_request req;
  req.ops.push_back(std::move(op));
  req.done = [&done](const status& st) { done.set_value(st); };
  if (auto st = store_.writer().submit(std::move(req)); !st.ok())
    return st;
  return fut.get();
}

persistence::status sqlite_catalog::load_demo(std::int64_t count, std::uint64_t seed) {
  std::lock_guard<std::mutex> guard{write_mtx_};
  auto first = next_id_;
  std::vector<product_spec> batch;
  status failed;
  auto flush = [&] {
    if (batch.empty() || !failed.ok())
      return;
    auto shared = std::make_shared<std::vector<product_spec>>(std::move(batch));
    batch.clear();
    failed = write({[shared](connection& db) -> status {
      for (auto& p : *shared)
        if (auto st = insert_product(db, p, true); !st.ok())
          return st;
      return {};
    }});
    if (!failed.ok())
      return;
    for (auto& p : *shared) {
      std::lock_guard<std::mutex> lock{stock_mtx_};
      for (auto& s : p.skus) {
        product_of_sku_[s.sku] = p.id;
        skus_of_product_[p.id].push_back(s.sku);
        for (auto& [wh, qty] : s.stock)
          stock_[s.sku].push_back({wh, qty, 0});
      }
    }
    for (auto& p : *shared) {
      auto price = p.skus.empty() ? std::int64_t{0} : p.skus.front().price;
      for (auto& s : p.skus)
        price = std::min(price, s.price);
      index_.upsert({p.id, p.title, p.brand, p.category, price, std::round(p.rating * 10) / 10,
                     p.reviews, p.created_ms, product_in_stock(p.id)});
    }
  };
  generate_demo_products(count, seed, [&](product_spec&& p) {
    p.id += first - 1; // after any products already there
    for (auto& s : p.skus) {
      // SKU ids carry the product id, so a second demo load never collides with the first.
      char buf[40];
      std::snprintf(buf, sizeof(buf), "SKU-%08lld-%s", static_cast<long long>(p.id),
                    s.sku.substr(s.sku.size() - 2).c_str());
      s.sku = buf;
    }
    batch.push_back(std::move(p));
    if (batch.size() >= 1000)
      flush();
  });
  flush();
  if (!failed.ok())
    return failed;
  next_id_ = first + count;
  // The FTS index is rebuilt once from the content table: much faster than row by row.
  auto st = write({[](connection& db) {
    return db.exec("INSERT INTO products_fts (products_fts) VALUES ('rebuild')");
  }});
  if (!st.ok())
    return st;
  return load_terms();
}

persistence::status sqlite_catalog::load_terms() {
  auto r = lease();
  if (!r)
    return {persistence::errc::open_failed, "catalog: cannot open a read connection"};
  std::vector<std::pair<std::string, std::int64_t>> terms;
  auto q = r->db.prepare("SELECT term, doc FROM products_vocab");
  while (q.step())
    terms.emplace_back(q.column_text(0), q.column_int(1));
  if (!q.error().ok())
    return q.error();
  std::sort(terms.begin(), terms.end()); // fts5vocab yields term order already; be sure
  std::unique_lock lock{terms_mtx_};
  terms_ = std::move(terms);
  return {};
}

void sqlite_catalog::add_terms(const std::string& text) {
  text_limits wide{~std::size_t{0}, 1000, 1000};
  auto words = search_tokens(text, wide);
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  std::unique_lock lock{terms_mtx_};
  for (auto& w : words) {
    auto it = std::lower_bound(terms_.begin(), terms_.end(), std::make_pair(w, std::int64_t{0}),
                               [](auto& a, auto& b) { return a.first < b.first; });
    if (it != terms_.end() && it->first == w)
      ++it->second;
    else
      terms_.insert(it, {w, 1});
  }
}

void sqlite_catalog::remove_terms(const std::string& text) {
  text_limits wide{~std::size_t{0}, 1000, 1000};
  auto words = search_tokens(text, wide);
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  std::unique_lock lock{terms_mtx_};
  for (auto& w : words) {
    auto it = std::lower_bound(terms_.begin(), terms_.end(), std::make_pair(w, std::int64_t{0}),
                               [](auto& a, auto& b) { return a.first < b.first; });
    if (it == terms_.end() || it->first != w)
      continue;
    if (--it->second <= 0)
      terms_.erase(it); // no document has the word any more: stop suggesting it
  }
}

// -- availability --

bool sqlite_catalog::product_in_stock(std::int64_t id) const {
  std::lock_guard<std::mutex> guard{stock_mtx_};
  auto it = skus_of_product_.find(id);
  if (it == skus_of_product_.end())
    return false;
  for (auto& sku : it->second) {
    auto st = stock_.find(sku);
    if (st == stock_.end())
      continue;
    for (auto& level : st->second)
      if (level.on_hand - level.reserved > 0)
        return true;
  }
  return false;
}

void sqlite_catalog::stock_changed(const std::string& sku, const std::string& warehouse_id,
                                   std::int64_t on_hand, std::int64_t reserved) {
  std::int64_t product = 0;
  {
    std::lock_guard<std::mutex> guard{stock_mtx_};
    auto& levels = stock_[sku];
    auto it = std::find_if(levels.begin(), levels.end(),
                           [&](auto& l) { return l.warehouse_id == warehouse_id; });
    if (it == levels.end())
      levels.push_back({warehouse_id, on_hand, reserved});
    else
      *it = {warehouse_id, on_hand, reserved};
    auto p = product_of_sku_.find(sku);
    if (p == product_of_sku_.end())
      return;
    product = p->second;
  }
  index_.set_in_stock(product, product_in_stock(product));
}

sku_delivery sqlite_catalog::delivery(const std::string& sku, const std::string& region) const {
  std::lock_guard<std::mutex> guard{stock_mtx_};
  auto it = stock_.find(sku);
  if (it == stock_.end())
    return {};
  return delivery_of(it->second, region);
}

sku_delivery sqlite_catalog::delivery_of(const std::vector<stock_level>& levels,
                                         const std::string& region) const {
  sku_delivery out;
  int best = 1 << 30;
  for (auto& level : levels) {
    auto available = level.on_hand - level.reserved;
    if (available <= 0)
      continue;
    out.available += available;
    auto wr = region_of_warehouse_.find(level.warehouse_id);
    int days = demo_delivery_days(wr != region_of_warehouse_.end() ? wr->second : "", region);
    if (days < best || (days == best && level.warehouse_id < out.warehouse_id)) {
      best = days;
      out.warehouse_id = level.warehouse_id;
      out.days = days;
    }
  }
  return out;
}

// -- reads --

text_hits sqlite_catalog::match(const std::vector<std::string>& tokens) {
  text_hits hits;
  auto r = lease();
  if (!r)
    return hits;
  r->match.reset();
  r->match.bind(1, match_expression(tokens)).bind(2, std::int64_t{max_text_hits});
  while (r->match.step())
    hits.emplace_back(r->match.column_int(0), r->match.column_double(1));
  r->match.reset();
  return hits;
}

catalog_result<search_result> sqlite_catalog::search(const search_request& req) {
  if (req.q.size() > limits_.max_query_bytes)
    return catalog_result<search_result>::fail(
        "validation_failed", "q",
        "the query is longer than " + std::to_string(limits_.max_query_bytes) + " bytes");
  if (!valid_utf8(req.q))
    return catalog_result<search_result>::fail("validation_failed", "q", "the query is not UTF-8");
  auto tokens = search_tokens(req.q, limits_);
  if (tokens.empty())
    return index_.query(req, nullptr); // browse (a query of only punctuation browses too)
  auto hits = match(tokens);
  if (hits.empty()) {
    // Typo tolerance at the end of words: retry with long words cut by two characters.
    bool cut = false;
    for (auto& t : tokens)
      if (t.size() >= 6 && static_cast<unsigned char>(t.back()) < 0x80) {
        t.resize(t.size() - 2);
        cut = true;
      }
    if (cut)
      hits = match(tokens);
  }
  return index_.query(req, &hits);
}

catalog_result<std::vector<suggestion>> sqlite_catalog::suggest(const std::string& prefix,
                                                                int limit) {
  using result_t = catalog_result<std::vector<suggestion>>;
  if (prefix.size() > limits_.max_query_bytes)
    return result_t::fail("validation_failed", "q", "the prefix is too long");
  if (!valid_utf8(prefix))
    return result_t::fail("validation_failed", "q", "the prefix is not UTF-8");
  std::vector<suggestion> out;
  auto tokens = search_tokens(prefix, limits_);
  if (tokens.empty() || limit <= 0)
    return {out, {}}; // (the word share below is at least one: no limit, no words)
  // Words that complete the last token, most documents first, after the words already typed.
  std::string head;
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i)
    head += tokens[i] + " ";
  auto& last = tokens.back();
  auto words = static_cast<std::size_t>(std::max(1, limit / 2));
  {
    std::shared_lock lock{terms_mtx_};
    auto it = std::lower_bound(terms_.begin(), terms_.end(), std::make_pair(last, std::int64_t{0}),
                               [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<std::pair<std::int64_t, const std::string*>> completions;
    for (; it != terms_.end() && it->first.compare(0, last.size(), last) == 0; ++it)
      completions.emplace_back(-it->second, &it->first);
    auto take = std::min(words, completions.size());
    std::partial_sort(completions.begin(), completions.begin() + static_cast<long>(take),
                      completions.end());
    for (std::size_t i = 0; i < take; ++i)
      out.push_back({head + *completions[i].second, std::nullopt});
  }
  // Then the most reviewed products whose text matches what was typed, from the first 2,000
  // matches. One letter gives words only: it matches most of the catalog, and the FTS prefix
  // indexes start at two characters.
  if (tokens.size() == 1 && last.size() < 2)
    return {out, {}};
  auto r = lease();
  if (!r)
    return {out, {}};
  std::vector<std::int64_t> ids;
  r->match_ids.reset();
  r->match_ids.bind(1, match_expression(tokens));
  while (r->match_ids.step())
    ids.push_back(r->match_ids.column_int(0));
  r->match_ids.reset();
  auto room = static_cast<std::size_t>(std::max(0, limit - static_cast<int>(out.size())));
  for (auto& p : index_.most_reviewed(ids, room))
    out.push_back({p.title, p.id});
  return {out, {}};
}

catalog_result<sku_offer> sqlite_catalog::offer(const std::string& sku) {
  std::int64_t pid = 0;
  {
    std::lock_guard<std::mutex> guard{stock_mtx_};
    auto it = product_of_sku_.find(sku);
    if (it == product_of_sku_.end())
      return catalog_result<sku_offer>::fail("unknown_sku", "/sku", "no SKU " + sku);
    pid = it->second;
  }
  // Every cart add asks here: read the shared page, never copy it.
  auto page = page_of(pid);
  if (page.ok())
    for (auto& s : (*page.value)->view.skus)
      if (s.sku == sku)
        return {sku_offer{sku, pid, (*page.value)->view.summary.title, s.price}, {}};
  return catalog_result<sku_offer>::fail("unknown_sku", "/sku", "no SKU " + sku);
}

catalog_result<std::shared_ptr<const sqlite_catalog::cached_page>>
sqlite_catalog::page_of(std::int64_t id) {
  // Product pages are the hottest read: their static part (text, attributes, SKUs) is kept in
  // memory after the first read, and only availability is computed per request.
  using out_t = catalog_result<std::shared_ptr<const cached_page>>;
  auto capacity = catalog_settings_.page_cache_entries;
  std::shared_ptr<const cached_page> page;
  std::uint64_t generation = 0;
  if (capacity > 0) {
    std::lock_guard<std::mutex> guard{pages_mtx_};
    auto it = pages_.find(id);
    if (it != pages_.end())
      return out_t{it->second, {}};
    generation = pages_generation_;
  }
  auto fresh = read_product(id, "");
  if (!fresh.ok())
    return out_t{std::nullopt, std::move(fresh.error)};
  auto made = std::make_shared<cached_page>(std::move(*fresh.value));
  {
    std::lock_guard<std::mutex> guard{stock_mtx_};
    for (auto& sku : made->view.skus)
      made->stock.push_back(&stock_[sku.sku]); // an empty entry for a SKU without stock yet
  }
  page = std::move(made);
  if (capacity > 0) {
    std::lock_guard<std::mutex> guard{pages_mtx_};
    // A write that dropped a page since this read began may have changed this one: serve what
    // was read (it was current when read) but do not keep it.
    if (generation == pages_generation_) {
      if (pages_.size() >= capacity)
        pages_.clear(); // bounded memory; the hot pages come back on their next read
      pages_.emplace(id, page);
    }
  }
  return out_t{std::move(page), {}};
}

catalog_result<product_view> sqlite_catalog::product(std::int64_t id, const std::string& region) {
  auto cached = page_of(id);
  if (!cached.ok())
    return catalog_result<product_view>{std::nullopt, std::move(cached.error)};
  auto& page = *cached.value;
  product_view v = page->view;
  auto deliveries = deliveries_of(*page, region);
  v.summary.in_stock = false;
  for (std::size_t i = 0; i < v.skus.size(); ++i) {
    v.skus[i].delivery = std::move(deliveries[i]);
    v.summary.in_stock = v.summary.in_stock || v.skus[i].delivery.available > 0;
  }
  return {std::move(v), {}};
}

std::vector<sku_delivery> sqlite_catalog::deliveries_of(const cached_page& page,
                                                        const std::string& region) {
  std::vector<sku_delivery> out;
  out.reserve(page.stock.size());
  std::lock_guard<std::mutex> guard{stock_mtx_};
  for (auto* levels : page.stock)
    out.push_back(delivery_of(*levels, region));
  return out;
}

catalog_result<std::string> sqlite_catalog::product_page(std::int64_t id,
                                                         const std::string& region) {
  auto cached = page_of(id);
  if (!cached.ok())
    return {std::nullopt, std::move(cached.error)};
  auto& page = *cached.value;
  std::string out;
  page->text.write(out, deliveries_of(*page, region), region);
  return {std::move(out), {}};
}

void sqlite_catalog::forget_page(std::int64_t id) {
  std::lock_guard<std::mutex> guard{pages_mtx_};
  pages_.erase(id);
  ++pages_generation_;
}

catalog_result<product_view> sqlite_catalog::read_product(std::int64_t id,
                                                          const std::string& region) {
  using result_t = catalog_result<product_view>;
  auto r = lease();
  if (!r)
    return result_t::fail("unavailable", "", "the catalog cannot be read now");
  product_view v;
  r->product.reset();
  r->product.bind(1, id);
  if (!r->product.step()) {
    r->product.reset();
    return result_t::fail("not_found", "", "no product " + std::to_string(id));
  }
  auto& p = r->product;
  v.summary = {id,
               p.column_text(0),
               p.column_text(2),
               p.column_text(3),
               p.column_int(8),
               static_cast<double>(p.column_int(5)) / 10.0,
               p.column_int(6),
               false};
  v.description = p.column_text(1);
  v.attributes = parse_attributes(p.column_text(4));
  v.created_ms = p.column_int(7);
  p.reset();
  r->skus.reset();
  r->skus.bind(1, id);
  while (r->skus.step()) {
    sku_view s;
    s.sku = r->skus.column_text(0);
    s.price = r->skus.column_int(1);
    s.attributes = parse_attributes(r->skus.column_text(2));
    s.delivery = delivery(s.sku, region);
    v.summary.in_stock = v.summary.in_stock || s.delivery.available > 0;
    v.skus.push_back(std::move(s));
  }
  r->skus.reset();
  return {std::move(v), {}};
}

std::vector<category_view> sqlite_catalog::categories() {
  return index_.categories();
}

std::vector<region_view> sqlite_catalog::regions() {
  return regions_;
}

bool sqlite_catalog::has_region(const std::string& id) {
  return std::any_of(regions_.begin(), regions_.end(), [&id](auto& r) { return r.id == id; });
}

std::vector<warehouse_view> sqlite_catalog::warehouses() {
  return warehouses_;
}

// -- writes --

namespace {

catalog_error check_change(const product_change& c, bool create, const catalog_index& index) {
  auto text_ok = [](const std::optional<std::string>& s, std::size_t max) {
    return !s || (!s->empty() && s->size() <= max);
  };
  if (create && (!c.title || !c.brand || !c.category))
    return {"validation_failed",
            !c.title   ? "/title"
            : !c.brand ? "/brand"
                       : "/category",
            "title, brand and category are required"};
  if (!text_ok(c.title, 300))
    return {"validation_failed", "/title", "title must be 1..300 characters"};
  if (!text_ok(c.brand, 100))
    return {"validation_failed", "/brand", "brand must be 1..100 characters"};
  if (c.description && c.description->size() > 20'000)
    return {"validation_failed", "/description", "description must be at most 20000 characters"};
  if (c.category && !index.has_category(*c.category))
    return {"unknown_category", "/category", "unknown category '" + *c.category + "'"};
  if (create && c.skus.empty())
    return {"validation_failed", "/skus", "a product needs at least one SKU"};
  if (c.skus.size() > 100)
    return {"validation_failed", "/skus", "at most 100 SKUs per product"};
  for (std::size_t i = 0; i < c.skus.size(); ++i) {
    auto& s = c.skus[i];
    auto ptr = "/skus/" + std::to_string(i);
    if (s.sku.empty() || s.sku.size() > 64)
      return {"validation_failed", ptr + "/sku", "sku must be 1..64 characters"};
    if (s.price <= 0 || s.price > 100'000'000'000)
      return {"validation_failed", ptr + "/price",
              "price must be a positive amount in minor units"};
    // Twice in one change would fail in the store (primary key) as a server error.
    for (std::size_t k = 0; k < i; ++k)
      if (c.skus[k].sku == s.sku)
        return {"validation_failed", ptr + "/sku", "SKU " + s.sku + " is listed twice"};
  }
  return {};
}

} // namespace

catalog_result<product_view> sqlite_catalog::create_product(const product_change& c) {
  using result_t = catalog_result<product_view>;
  if (auto err = check_change(c, true, index_); !err.code.empty())
    return {std::nullopt, err};
  std::lock_guard<std::mutex> guard{write_mtx_};
  {
    std::lock_guard<std::mutex> lock{stock_mtx_};
    for (auto& s : c.skus)
      if (product_of_sku_.count(s.sku) > 0)
        return result_t::fail("sku_taken", "/skus", "SKU " + s.sku + " exists already");
  }
  product_spec p;
  p.id = next_id_;
  p.title = *c.title;
  p.brand = *c.brand;
  p.category = *c.category;
  p.description = c.description.value_or("");
  p.attributes = c.attributes.value_or(attributes{});
  p.created_ms = base::unix_millis(std::chrono::system_clock::now());
  for (auto& s : c.skus)
    p.skus.push_back({s.sku, s.price, s.attributes, {}});
  if (auto st = write({[p](connection& db) { return insert_product(db, p, false); }}); !st.ok())
    return result_t::fail("store_failed", "", st.message);
  ++next_id_;
  {
    std::lock_guard<std::mutex> lock{stock_mtx_};
    for (auto& s : p.skus) {
      product_of_sku_[s.sku] = p.id;
      skus_of_product_[p.id].push_back(s.sku);
    }
  }
  auto price = p.skus.front().price;
  for (auto& s : p.skus)
    price = std::min(price, s.price);
  index_.upsert({p.id, p.title, p.brand, p.category, price, 0, 0, p.created_ms, false});
  add_terms(p.title + " " + p.brand + " " + p.description);
  return read_product(p.id, "");
}

catalog_result<product_view> sqlite_catalog::update_product(std::int64_t id,
                                                            const product_change& c) {
  using result_t = catalog_result<product_view>;
  if (auto err = check_change(c, false, index_); !err.code.empty())
    return {std::nullopt, err};
  std::lock_guard<std::mutex> guard{write_mtx_};
  auto current = read_product(id, "");
  if (!current.ok())
    return current;
  auto& cur = *current.value;
  {
    std::lock_guard<std::mutex> lock{stock_mtx_};
    for (auto& s : c.skus) {
      auto owner = product_of_sku_.find(s.sku);
      if (owner != product_of_sku_.end() && owner->second != id)
        return result_t::fail("sku_taken", "/skus", "SKU " + s.sku + " belongs to another product");
    }
  }
  auto title = c.title.value_or(cur.summary.title);
  auto brand = c.brand.value_or(cur.summary.brand);
  auto category = c.category.value_or(cur.summary.category);
  auto description = c.description.value_or(cur.description);
  auto attrs = c.attributes.value_or(cur.attributes);
  auto skus = c.skus;
  auto old = cur;
  auto st = write({[=](connection& db) -> status {
    // External-content FTS: remove the old row's terms before the content changes.
    auto del =
        db.prepare("INSERT INTO products_fts (products_fts, rowid, title, brand, description)"
                   " VALUES ('delete', ?1, ?2, ?3, ?4)");
    del.bind(1, id).bind(2, old.summary.title).bind(3, old.summary.brand).bind(4, old.description);
    if (auto s = step_done(del); !s.ok())
      return s;
    auto up = db.prepare("UPDATE products SET title = ?2, brand = ?3, category = ?4,"
                         " description = ?5, attributes = ?6 WHERE id = ?1");
    up.bind(1, id).bind(2, title).bind(3, brand).bind(4, category).bind(5, description);
    up.bind(6, attributes_json(attrs));
    if (auto s = step_done(up); !s.ok())
      return s;
    auto sku = db.prepare(
        "INSERT INTO skus (sku, product_id, price, attributes, position) VALUES (?1, ?2, ?3, ?4,"
        " (SELECT coalesce(max(position), -1) + 1 FROM skus WHERE product_id = ?2))"
        " ON CONFLICT (sku) DO UPDATE SET price = excluded.price, attributes = "
        "excluded.attributes");
    for (auto& s : skus) {
      sku.bind(1, s.sku).bind(2, id).bind(3, s.price).bind(4, attributes_json(s.attributes));
      if (auto e = step_done(sku); !e.ok())
        return e;
    }
    auto price = db.prepare("UPDATE products SET price = (SELECT min(price) FROM skus WHERE "
                            "product_id = ?1) WHERE id = ?1");
    price.bind(1, id);
    if (auto s = step_done(price); !s.ok())
      return s;
    auto ins = db.prepare(
        "INSERT INTO products_fts (rowid, title, brand, description) VALUES (?1, ?2, ?3, ?4)");
    ins.bind(1, id).bind(2, title).bind(3, brand).bind(4, description);
    return step_done(ins);
  }});
  if (!st.ok())
    return result_t::fail("store_failed", "", st.message);
  {
    std::lock_guard<std::mutex> lock{stock_mtx_};
    for (auto& s : skus)
      if (product_of_sku_.emplace(s.sku, id).second)
        skus_of_product_[id].push_back(s.sku);
  }
  remove_terms(old.summary.title + " " + old.summary.brand + " " + old.description);
  forget_page(id);
  add_terms(title + " " + brand + " " + description);
  auto fresh = read_product(id, "");
  if (fresh.ok()) {
    auto& f = *fresh.value;
    index_.upsert({id, f.summary.title, f.summary.brand, f.summary.category, f.summary.price,
                   f.summary.rating, f.summary.reviews, f.created_ms, product_in_stock(id)});
  }
  return fresh;
}

catalog_result<sku_view> sqlite_catalog::set_stock(const std::string& sku,
                                                   const std::string& warehouse_id,
                                                   std::int64_t on_hand) {
  using result_t = catalog_result<sku_view>;
  if (on_hand < 0 || on_hand > 1'000'000'000)
    return result_t::fail("validation_failed", "/on_hand", "on_hand must be 0..1000000000");
  if (region_of_warehouse_.count(warehouse_id) == 0)
    return result_t::fail("unknown_warehouse", "/warehouse_id",
                          "unknown warehouse '" + warehouse_id + "' (see GET /v1/regions)");
  stock_owner owner;
  {
    std::lock_guard<std::mutex> lock{owner_mtx_};
    owner = stock_owner_;
  }
  if (owner) {
    {
      std::lock_guard<std::mutex> lock{stock_mtx_};
      if (product_of_sku_.count(sku) == 0)
        return result_t::fail("unknown_sku", "", "no SKU " + sku);
    }
    auto err = owner(sku, warehouse_id, on_hand);
    if (!err.code.empty())
      return {std::nullopt, std::move(err)};
    sku_view v;
    v.sku = sku;
    v.delivery = delivery(sku, region_of_warehouse_[warehouse_id]);
    return {std::move(v), {}};
  }
  std::lock_guard<std::mutex> guard{write_mtx_};
  std::int64_t reserved = 0;
  {
    std::lock_guard<std::mutex> lock{stock_mtx_};
    if (product_of_sku_.count(sku) == 0)
      return result_t::fail("unknown_sku", "", "no SKU " + sku);
    for (auto& level : stock_[sku])
      if (level.warehouse_id == warehouse_id)
        reserved = level.reserved;
  }
  if (on_hand < reserved)
    return result_t::fail("below_reserved", "/on_hand",
                          std::to_string(reserved) +
                              " units are reserved; on_hand cannot be lower");
  auto st = write({[=](connection& db) {
    auto up =
        db.prepare("INSERT INTO stock (sku, warehouse_id, on_hand) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (sku, warehouse_id) DO UPDATE SET on_hand = excluded.on_hand");
    up.bind(1, sku).bind(2, warehouse_id).bind(3, on_hand);
    return step_done(up);
  }});
  if (!st.ok())
    return result_t::fail("store_failed", "", st.message);
  stock_changed(sku, warehouse_id, on_hand, reserved);
  sku_view v;
  v.sku = sku;
  v.delivery = delivery(sku, region_of_warehouse_[warehouse_id]);
  return {std::move(v), {}};
}

void sqlite_catalog::set_stock_owner(stock_owner owner) {
  std::lock_guard<std::mutex> lock{owner_mtx_};
  stock_owner_ = std::move(owner);
}

std::vector<std::pair<std::string, std::int64_t>>
sqlite_catalog::on_hand_of(const std::string& sku) const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  std::lock_guard<std::mutex> lock{stock_mtx_};
  auto it = stock_.find(sku);
  if (it != stock_.end())
    for (auto& level : it->second)
      out.emplace_back(level.warehouse_id, level.on_hand);
  return out;
}

bool sqlite_catalog::record_stock(const std::string& sku, const std::string& warehouse_id,
                                  std::int64_t on_hand, std::int64_t reserved) {
  stock_changed(sku, warehouse_id, on_hand, reserved);
  persistence::write_request req;
  req.ops.emplace_back(persistence::custom_write{[=](connection& db) {
    // Cached on the writer's connection: every stock change of every SKU runs it.
    auto up = db.cached("INSERT INTO stock (sku, warehouse_id, on_hand, reserved)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sku, warehouse_id) DO UPDATE"
                        " SET on_hand = excluded.on_hand, reserved = excluded.reserved");
    if (!up)
      return db.last_error("prepare");
    up->bind(1, sku).bind(2, warehouse_id).bind(3, on_hand).bind(4, reserved);
    return step_done(*up);
  }});
  // The projection may lag a crash by one batch: the SKU's snapshot is the truth. A write the
  // writer refuses is published again by the SKU with its next change (it hears `false`). A
  // batch that fails (an I/O error, logged by the writer) leaves the row behind until that
  // warehouse moves again or the SKU's actor starts again, which publishes every warehouse.
  req.done = [](const status&) {};
  return store_.writer().submit(std::move(req)).ok();
}

} // namespace souk::actors::catalog
