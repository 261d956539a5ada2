-- The delivery queue churns: every delivery is updated at least twice. Vacuum it early so
-- dead index entries do not pile up in front of the due-deliveries scans.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE delivery_attempts SET (autovacuum_vacuum_scale_factor = 0.05);
