PRAGMA user_version = 1;
BEGIN TRANSACTION;
CREATE TABLE courses (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
INSERT INTO "courses" VALUES('flood-2024','{"id": "flood-2024", "title": "Flood mapping", "starts": "2024-03-04", "ends": null, "modules": [{"name": "s1-flood-mapping-malawi", "ref": "v1"}], "packages": ["nsanje-s1:1"], "idp_groups": ["flood"], "image": null, "mem_limit": null, "cpu_limit": null}');
CREATE TABLE enrolments (
  course_id TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL,
  PRIMARY KEY (course_id, username));
INSERT INTO "enrolments" VALUES('flood-2024','alice','participant','manual');
CREATE TABLE feedback (
  course_id TEXT NOT NULL, module TEXT NOT NULL, username TEXT NOT NULL, rating INTEGER NOT NULL,
  comment TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (course_id, module, username));
INSERT INTO "feedback" VALUES('flood-2024','s1-flood-mapping-malawi','alice',4,'clear','2024-03-01T12:00:00+00:00');
CREATE TABLE module_syncs (
  username TEXT NOT NULL, course_id TEXT NOT NULL, module TEXT NOT NULL, commit_id TEXT NOT NULL,
  PRIMARY KEY (username, course_id, module));
CREATE INDEX enrolments_user ON enrolments (username);
COMMIT;
