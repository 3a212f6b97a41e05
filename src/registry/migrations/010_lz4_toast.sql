-- The rim (jsonb) and leaf_xml (text) columns hold 2-15 kB per object, above the TOAST threshold: every
-- insert compresses them. lz4 costs a fraction of the default pglz's CPU for the same kind of ratio on
-- this XML/JSON. A server built without lz4 (PGlite, some distributions) keeps pglz: the statement is
-- skipped, nothing else changes. Only new values are compressed with lz4; existing rows are left as they are.
do $$
declare
  target record;
begin
  for target in
    select * from (values
      ('submission_sets', 'rim'), ('submission_sets', 'leaf_xml'),
      ('document_entries', 'rim'), ('document_entries', 'leaf_xml'),
      ('folders', 'rim'), ('folders', 'leaf_xml'),
      ('associations', 'rim'), ('associations', 'leaf_xml'),
      ('audit_events', 'message')
    ) as t(table_name, column_name)
  loop
    begin
      execute format('alter table %I alter column %I set compression lz4', target.table_name, target.column_name);
    exception when others then
      -- lz4 not compiled in: pglz stays.
      null;
    end;
  end loop;
end
$$;
