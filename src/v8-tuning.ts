import v8 from 'node:v8';

/**
 * Imported first by the gateway and worker entry points, before any other module has allocated.
 *
 * No allocation-site pretenuring: V8 may decide that the objects of an allocation site survive and
 * allocate them in the old generation from then on. On the query path it decides so for objects held
 * while queries wait for a connection (node-postgres' result rows); each one then keeps the young
 * objects it points to (every row string of every answer) alive through minor GCs until a full GC.
 * Measured on the 1,000,000-entry FindDocuments benchmark: 130 KB promoted per query and 30 ms
 * scavenges with pretenuring, 25-40 KB and 3-4 ms without; about a quarter less gateway
 * CPU per query.
 * The flag is read at each GC, so setting it here (instead of on every command line that starts a
 * gateway) holds for `npm start`, the Docker image and the processes GATEWAY_PROCESSES forks.
 */
v8.setFlagsFromString('--no-allocation-site-pretenuring');

/**
 * The old generation may grow to four times what the last full GC left (V8's own largest factor) before the
 * next one, instead of a factor V8 derives from how fast it collects against how fast the program promotes.
 * When little is promoted, as on the query path, V8 took 1.1-1.3. The limit then left less room than the new
 * space that `--max-semi-space-size=64` gives, and V8 starts incremental marking whenever the room left is
 * less than that: one full GC every 100-600 ms, 20-49 in 30 s in one process, mostly 5-16 ms each, in about half
 * the runs of the 1,000,000-entry FindDocuments benchmark. With this factor, at most one in 30 s in nine runs
 * (docs/registry.md, eighth session). The cost is memory: about 4 × 55 MB of old generation per gateway
 * process before a full GC. Read at each full GC, so setting it here holds as the flag above does.
 */
v8.setFlagsFromString('--heap-growing-percent=300');
