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
