-- octopus.history.schema: the store's file format, as the chain of migrations that
-- builds it. PRAGMA user_version is the number applied; octopus.history.store applies
-- the missing ones at open, in one transaction. Never edit a shipped migration: add
-- the next one (spec/store_spec.lua keeps a frozen copy of v1 and migrates it).
local M = {}

M.MIGRATIONS = {
  -- v1: what is kept
  [[
  CREATE TABLE supply_points (
    spin TEXT PRIMARY KEY, account TEXT, area TEXT, supply_start INTEGER, updated_at INTEGER);
  CREATE TABLE readings (
    spin TEXT NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,
    value REAL NOT NULL, value_text TEXT NOT NULL, cost REAL, cost_text TEXT,
    version TEXT, band TEXT, step INTEGER, fetched_at INTEGER NOT NULL,
    PRIMARY KEY (spin, start_at)) WITHOUT ROWID;
  CREATE TABLE revisions (
    spin TEXT NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,
    value REAL NOT NULL, value_text TEXT NOT NULL, cost REAL, cost_text TEXT,
    version TEXT, band TEXT, step INTEGER, fetched_at INTEGER NOT NULL, replaced_at INTEGER NOT NULL);
  CREATE INDEX revisions_by_row ON revisions (spin, start_at);
  ]],
  -- v2: what a sync fetched in full (so a killed or partial backfill is resumed, and
  -- half hours the API never had are not asked for again)
  [[
  CREATE TABLE coverage (spin TEXT NOT NULL, from_at INTEGER NOT NULL, to_at INTEGER NOT NULL,
    PRIMARY KEY (spin, from_at)) WITHOUT ROWID;
  ]],
}

return M
