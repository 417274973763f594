#include "persistence/migrations.hpp"

namespace souk::persistence {

const std::vector<migration>& migrations() {
  static const std::vector<migration> all = {
      {1, "node metadata and actor snapshots", R"sql(
CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- The latest state of every entity owned by this node. `epoch` fences writes from an owner
-- that lost the key in a membership change: a write with a lower epoch is refused.
CREATE TABLE snapshots (
  kind       TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  epoch      INTEGER NOT NULL,
  state      BLOB    NOT NULL,
  updated_at INTEGER NOT NULL,   -- Unix milliseconds
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
)sql"},
      {2, "idempotency records and the event outbox", R"sql(
-- Responses of requests that carried an Idempotency-Key, scoped to the principal.
CREATE TABLE idempotency (
  principal    TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  request_hash TEXT    NOT NULL,
  state        TEXT    NOT NULL CHECK (state IN ('in_flight', 'done')),
  status       INTEGER,
  response     BLOB,
  created_at   INTEGER NOT NULL,  -- Unix milliseconds
  PRIMARY KEY (principal, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency (created_at);

-- Domain events in commit order (order events feed notifications and the admin console).
CREATE TABLE outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  topic      TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  payload    BLOB    NOT NULL,
  created_at INTEGER NOT NULL
);
)sql"},
      {3, "the catalog read model: geography, categories, products, SKUs, stock, search", R"sql(
CREATE TABLE regions (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE warehouses (
  id     TEXT PRIMARY KEY,
  name   TEXT NOT NULL,
  region TEXT NOT NULL REFERENCES regions (id)
) WITHOUT ROWID;

-- Delivery estimate from a warehouse's region to a buyer's region.
CREATE TABLE delivery_days (
  from_region TEXT    NOT NULL REFERENCES regions (id),
  to_region   TEXT    NOT NULL REFERENCES regions (id),
  days        INTEGER NOT NULL CHECK (days > 0),
  PRIMARY KEY (from_region, to_region)
) WITHOUT ROWID;

-- The category tree; `id` is the slash-separated path ("clothing/men/jeans").
CREATE TABLE categories (
  id       TEXT PRIMARY KEY,
  name     TEXT    NOT NULL,
  parent   TEXT    NOT NULL,            -- '' for a root
  position INTEGER NOT NULL             -- parents before children
) WITHOUT ROWID;

CREATE TABLE products (
  id          INTEGER PRIMARY KEY,
  title       TEXT    NOT NULL,
  description TEXT    NOT NULL,
  brand       TEXT    NOT NULL,
  category    TEXT    NOT NULL REFERENCES categories (id),
  attributes  TEXT    NOT NULL,          -- JSON object
  rating      INTEGER NOT NULL,          -- tenths: 47 is 4.7
  reviews     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,          -- Unix milliseconds
  price       INTEGER NOT NULL           -- the lowest SKU price, minor units
);

CREATE TABLE skus (
  sku        TEXT PRIMARY KEY,
  product_id INTEGER NOT NULL REFERENCES products (id),
  price      INTEGER NOT NULL CHECK (price > 0),
  attributes TEXT    NOT NULL,          -- JSON object: size, color, memory, ...
  position   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX skus_by_product ON skus (product_id, position);

-- Stock per SKU and warehouse; the SKU stock actors own it once they exist.
CREATE TABLE stock (
  sku          TEXT    NOT NULL REFERENCES skus (sku),
  warehouse_id TEXT    NOT NULL REFERENCES warehouses (id),
  on_hand      INTEGER NOT NULL CHECK (on_hand >= 0),
  reserved     INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
  PRIMARY KEY (sku, warehouse_id)
) WITHOUT ROWID;

-- Full-text search over the products table (external content: the text is stored once).
-- Prefix indexes of 2 and 3 characters make "kr" and "kro" cheap as you type.
CREATE VIRTUAL TABLE products_fts USING fts5 (
  title, brand, description,
  content = 'products', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
-- The index's vocabulary, for word completion in suggest.
CREATE VIRTUAL TABLE products_vocab USING fts5vocab (products_fts, 'row');
)sql"},
      {4, "snapshot parts: sub-records of an entity written one row each", R"sql(
-- Parts of a snapshot (a SKU's reservations, one row each), so that a change rewrites only
-- the rows it touched. Written with their head row in `snapshots`, fenced by its epoch, and
-- deleted with it.
CREATE TABLE snapshot_parts (
  kind  TEXT NOT NULL,
  key   TEXT NOT NULL,
  part  TEXT NOT NULL,
  state BLOB NOT NULL,
  PRIMARY KEY (kind, key, part)
) WITHOUT ROWID;
)sql"},
      {5, "snapshots in a rowid table: new entities append, updates stay in place", R"sql(
-- A WITHOUT ROWID table keeps each row in its primary key's B-tree, at a random place for a
-- new key; with rows of 1-2 KB (an order) only two fit in a page, and every write of a batch
-- dirties a page of its own. In a rowid table a new entity's row goes to the end, next to
-- the other entities being written now, and the (kind, key) index holds only short entries.
CREATE TABLE snapshots_by_row (
  kind       TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  epoch      INTEGER NOT NULL,
  state      BLOB    NOT NULL,
  updated_at INTEGER NOT NULL    -- Unix milliseconds
);
INSERT INTO snapshots_by_row (kind, key, version, epoch, state, updated_at)
  SELECT kind, key, version, epoch, state, updated_at FROM snapshots;
DROP TABLE snapshots;
ALTER TABLE snapshots_by_row RENAME TO snapshots;
CREATE UNIQUE INDEX snapshots_by_key ON snapshots (kind, key);
)sql"},
  };
  return all;
}

int latest_schema_version() {
  return migrations().back().version;
}

status migrate(connection& db, int target) {
  if (target < 0)
    target = latest_schema_version();
  auto current = db.query_int("PRAGMA user_version");
  if (!current)
    return current.error();
  if (*current > latest_schema_version())
    return {errc::schema_too_new,
            "database " + db.path() + " has schema version " + std::to_string(*current) +
                " but this soukd knows versions up to " + std::to_string(latest_schema_version()) +
                "; run a newer soukd or use another data folder"};
  for (auto& step : migrations()) {
    if (step.version <= *current || step.version > target)
      continue;
    auto sql = "BEGIN IMMEDIATE;\n" + step.sql +
               "\nPRAGMA user_version = " + std::to_string(step.version) + ";\nCOMMIT;";
    if (auto st = db.exec(sql); !st.ok()) {
      db.exec("ROLLBACK");
      auto code = st.code == errc::read_only || st.code == errc::not_a_database
                      ? st.code
                      : errc::migration_failed;
      return {code, "migration " + std::to_string(step.version) + " (" + step.description +
                        ") failed: " + st.message};
    }
  }
  return {};
}

} // namespace souk::persistence
