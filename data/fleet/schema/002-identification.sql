-- probity fleet store, schema version 2 (docs/fleet.md): what identification says of a component
-- beyond its name and version, so that `fleet rejudge` matches and weighs it as `scan` does.
-- components.cpe_aliases: Component::cpe_aliases (the same product under NVD's other
-- vendor:product names, CPE 2.3 strings joined by newlines; '' for none, and for rows ingested
-- before this file, whose reports predate the aliases or were stored without them).
-- component_evidence.kind / confidence: Evidence::kind and Evidence::confidence
-- (docs/signatures.md, "Evidence and confidence"); '' and 0 for rows ingested before this file.
ALTER TABLE components ADD COLUMN cpe_aliases TEXT NOT NULL DEFAULT '';
ALTER TABLE component_evidence ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE component_evidence ADD COLUMN confidence DOUBLE PRECISION NOT NULL DEFAULT 0;
