PRAGMA user_version = 1;
BEGIN TRANSACTION;
CREATE TABLE builds (
  name TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
  volume TEXT NOT NULL, backend TEXT NOT NULL, owner TEXT, runner TEXT, spec TEXT,
  error TEXT, started TEXT, finished TEXT, updated TEXT NOT NULL,
  total_files INTEGER NOT NULL DEFAULT 0, total_bytes INTEGER NOT NULL DEFAULT 0,
  datasets TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (name, version));
INSERT INTO "builds" VALUES('nsanje-s1','1','package','ready','everest-pkg-nsanje-s1-1','docker','admin','vm:27163','{"name": "nsanje-s1"}',NULL,'2026-11-26T02:14:20.673331+00:00','2026-11-26T02:14:20.677314+00:00','2026-11-26T02:14:20.677342+00:00',2,2048,'["a", "b"]','[]');
CREATE TABLE files (
  name TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL, product TEXT NOT NULL,
  file_name TEXT NOT NULL, size INTEGER, done INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,
  sha256 TEXT, entry TEXT, error TEXT, PRIMARY KEY (name, version, path));
CREATE TABLE specs (
  name TEXT NOT NULL, version TEXT NOT NULL, spec TEXT NOT NULL, created TEXT NOT NULL,
  created_by TEXT, PRIMARY KEY (name, version));
INSERT INTO "specs" VALUES('nsanje-s1','1','{"name": "nsanje-s1", "version": "1"}','2026-11-26T02:14:20.666444+00:00','admin');
COMMIT;
