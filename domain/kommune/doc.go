// Package kommune knows Norwegian kommunenummer (municipality codes) as Statistisk
// sentralbyrå (SSB) defines them in classification 131, "Standard for
// kommuneinndeling": which codes exist, on which dates each was valid, and which
// code succeeds a former one today.
//
// # Data
//
// The facts are embedded from data/kommuner-2024.csv (the 357 municipalities
// valid from 2024-01-01) and data/kommuner-changes.csv (SSB's change rows from
// 2017-01-01 to 2024-01-01); see data/SOURCES.md. They are parsed once at
// package initialisation into tables that are never modified afterwards, so
// every function and method is safe for concurrent use. Embedded data that
// fails to parse or is inconsistent makes initialisation panic; nothing else
// in the package panics. No I/O happens at run time.
//
// # Validity
//
// Validity intervals are derived from the change table. A code that is an old
// code on date D and not also a new code on D stops being valid on D (D is the
// first day it is not valid). A code that is a new code on D and was not valid
// just before starts being valid on D. A code whose first appearance in the
// table is as an old code, and a code that never appears in it, has been valid
// since before the table starts (2017); the package treats that as the
// beginning of time. A code that is both old and new on D (1103 Stavanger and
// 5001 Trondheim in 2020, 0704 Tønsberg in 2017) keeps its validity.
//
// Dates are calendar dates in Europe/Oslo: a time.Time is first converted to
// Oslo time and only its year, month and day are used, so
// 2019-12-31T23:30:00Z is 2020-01-01. The tz database is embedded
// (time/tzdata), so this works on machines without zoneinfo.
//
// # Successors and splits
//
// Current follows a former code through every later change to the code that
// succeeds it today (1702 → 5004 → 5006). When a code was split, that is, it is
// the old code of several rows with different new codes on the date it stopped
// being valid, one successor is chosen deterministically, in this order:
//
//  1. the new code whose name equals the old name (1507 Ålesund → 1508 Ålesund,
//     not 1580 Haram);
//  2. otherwise the entry in splitOverrides (in change.go), each of which says
//     why: the part that got the administrative centre (0720 Stokke → 0710
//     Sandefjord, 1850 Tysfjord → 1806 Narvik, 5012 Snillfjord → 5059 Orkland);
//  3. otherwise the first row for the old code in SSB's order.
//
// Mergers where a whole municipality went to one code need no rule. Boundary
// adjustments that moved part of a municipality without a change row (for
// example parts of Hemne, Halsa or Ballangen) are not visible in the table and
// do not affect successors.
//
// ChangesInto, by contrast, follows every successor of a split, because a
// timeline of today's municipality should show all reforms that shaped it: the
// 2020 rows that merged 1534 Haram and others into 1507 Ålesund appear under
// both 1508 Ålesund and 1580 Haram.
package kommune
