-- Bytes the registry keeps itself instead of the content store: the gateway's own DSG signature of each
-- submission (a few kB of XML it made), in its DocumentEntry's row. They are written by the commit of the
-- submission, as durable as its metadata, without a file, an fsync and a directory fsync of their own, and
-- without a row or an index entry more than the entry has. Null for every submitted document. An ITI-57
-- version of the entry carries them over like the content key.
alter table document_entries add column inline_content bytea;
-- lz4 like the other large columns (010_lz4_toast.sql); a server without lz4 keeps pglz.
do $$
begin
  alter table document_entries alter column inline_content set compression lz4;
exception when others then
  null;
end
$$;
