// Every cap probity has, defined once: the named caps that bound every unpacking run (each
// overridable by a CLI flag; hitting one is recorded as a warning in the manifest, never silent),
// every parse of a user-supplied file, what `probity log serve` lets its clients hold
// (docs/tlog.md, "Slow and hostile clients"), and, by stage, the caps of each reader and check.
// A cap without a flag says why it has none (for a block of caps, in the block's heading).
// Thresholds that are heuristics or format facts, not caps, stay beside their code and say
// "not a cap" there (tests/unit/limits_test.cpp fails on a kMax/kMin constant elsewhere that
// does not).
#pragma once

#include <cstddef>
#include <cstdint>

namespace probity {

inline constexpr std::uint64_t kMiB = 1024ull * 1024;
inline constexpr std::uint64_t kGiB = 1024ull * kMiB;

/// Total bytes written under the output directory, all formats together (--max-total).
inline constexpr std::uint64_t kMaxTotalBytes = 4 * kGiB;
/// Largest single extracted file (--max-file).
inline constexpr std::uint64_t kMaxFileBytes = 2 * kGiB;
/// Decompressed:compressed ratio above which a stream is treated as a bomb (--max-ratio).
inline constexpr std::uint32_t kMaxRatio = 250;
/// Ratio is only enforced once a stream has produced this much (small text compresses well).
inline constexpr std::uint64_t kRatioFloorBytes = 64 * kMiB;
/// Nesting depth of containers inside containers (--max-depth).
inline constexpr std::uint32_t kMaxDepth = 16;
/// Entries (files, dirs, links) across the whole run (--max-files).
inline constexpr std::uint64_t kMaxEntries = 500'000;
/// Memory the unpacker's records of entries may take, all containers together (--max-memory).
/// With the per-code warning cap and the streamed manifest, this bounds the unpacker's working
/// memory: peak RSS stays under 512 MiB on the hostile fixtures (docs/architecture.md).
inline constexpr std::uint64_t kMaxRecordBytes = 192 * kMiB;
/// Wall-clock seconds one format instance may spend extracting (--format-timeout).
inline constexpr std::uint32_t kFormatSeconds = 120;
/// Candidate offsets kept per magic in one carved blob (--max-candidates); more means a flood of
/// fake magics. Per magic, so that a flood of one never crowds out another format.
inline constexpr std::uint64_t kMaxCarveCandidates = 20'000;
/// Directory nesting a filesystem reader follows (ext, squashfs 1–4, ubifs, cramfs, jffs2). No
/// flag: deeper than any real tree, and kMaxPathBytes bounds a path anyway; deeper directories
/// are skipped with a warning.
inline constexpr std::uint32_t kMaxDirDepth = 256;
/// Entries one directory may list in a filesystem reader (ext, squashfs 1–3). No flag: a real
/// directory holds far fewer, and kMaxEntries bounds the run.
inline constexpr std::uint32_t kMaxDirEntries = 200'000;
/// Longest path accepted from an archive entry.
inline constexpr std::uint64_t kMaxPathBytes = 4096;
/// Longest symlink target recorded.
inline constexpr std::uint64_t kMaxLinkBytes = 4096;
/// Symlinks followed while resolving one path inside an extracted tree (the kernel's MAXSYMLINKS;
/// no flag: a longer chain is a loop or an attack).
inline constexpr std::uint32_t kMaxLinkHops = 40;

/// Largest dictionary an lzma-alone header may declare for the probe to accept it (no flag: xz -9
/// and LZMA SDK -d26 use 64 MiB; it stays under the decoder memory cap, kMaxDecoderMemory).
inline constexpr std::uint64_t kMaxLzmaDictBytes = 128 * kMiB;

/// Metadata blocks of a squashfs 4.0 LZMA image looked at to choose its block encoding
/// (libsquashfs's 13-byte lzma-alone or a vendor variant); the first compressed one decides (no
/// flag: each yields at most 8 KiB, decoded under at most 71 LZMA property sets).
inline constexpr std::uint32_t kSquashfsTrialBlocks = 3;

/// Decompressed metadata (inode, directory, fragment and id tables) of one big-endian squashfs 4.0
/// image, byte-swapped into a little-endian copy for libsquashfs (no flag: AVM images hold well
/// under 1 MiB; this bounds what a hostile table of tiny blocks can expand to).
inline constexpr std::uint64_t kSquashfsBeMetadataBytes = 64 * kMiB;

// Hand-written readers of issue 10 item 5 and 6 (lzop, hex records, romfs, Android sparse and
// boot images, yaffs2, FAT). No flags: each bounds what one hostile header can make the reader
// allocate or walk; the run's caps (kMaxFileBytes, kMaxEntries, ...) bound the rest.

/// Largest lzop block (lzop itself writes at most 256 KiB and refuses more than 64 MiB).
inline constexpr std::uint64_t kMaxLzopBlockBytes = 64 * kMiB;
/// Span from the lowest to the highest address of an Intel HEX / S-record / Tektronix image
/// (the binary is built in memory; a microcontroller image is kilobytes to a few MiB).
inline constexpr std::uint64_t kMaxHexImageBytes = 64 * kMiB;
/// Longest text line read as one hex record (a record holds at most 255 data bytes: 520 chars).
inline constexpr std::uint64_t kMaxHexLineBytes = 1024;
/// Largest block size an Android sparse header may declare (libsparse writes 4 KiB).
inline constexpr std::uint64_t kMaxSparseBlockBytes = 1 * kMiB;
/// ARJ: the largest basic header the format allows (ARJ's own limit, 2600 bytes) and the most
/// extended headers read after one basic header (ARJ writes none or one).
inline constexpr std::uint64_t kMaxArjHeaderBytes = 2600;
inline constexpr std::uint32_t kMaxArjExtendedHeaders = 16;
/// Minix: the largest directory read (a directory of 4096 entries of 64 bytes is 256 KiB) and
/// the deepest directory nesting walked (the run's path cap bounds it too).
inline constexpr std::uint64_t kMaxMinixDirBytes = 4 * kMiB;
inline constexpr std::uint32_t kMaxMinixDepth = 256;
/// Realtek RTL819x images: the largest part one header may announce (a flash is at most a few
/// tens of MiB) and the most parts read back to back (kernel, root filesystem, web pages...).
inline constexpr std::uint64_t kMaxRealtekPartBytes = 256 * kMiB;
inline constexpr std::uint32_t kMaxRealtekParts = 16;
/// Huawei HWNP: the most item records read from one packet (real packets list a few dozen).
inline constexpr std::uint32_t kMaxHwnpItems = 4096;
/// Buffalo encrypted firmware: the longest product or version field (buffalo-enc allows a few
/// dozen bytes) and the largest data restored with the "longstate" schedule, whose state is as
/// long as the data.
inline constexpr std::uint64_t kMaxBuffaloNameBytes = 256;
inline constexpr std::uint64_t kMaxBuffaloLongstateBytes = 64 * kMiB;
/// Android Verified Boot: the largest vbmeta blob read (libavb's own VBMETA_MAX_SIZE, 64 KiB)
/// and the most vendor ramdisks one vendor_boot v4 table may list (mkbootimg writes a few).
inline constexpr std::uint64_t kMaxAvbVbmetaBytes = 64 * 1024;
inline constexpr std::uint32_t kMaxVendorRamdisks = 256;
/// Arcadyan obfuscated-LZMA kernels: the most bytes de-obfuscated (a copy is made) — binwalk's
/// own bound for the format, 0x1B0000.
inline constexpr std::uint64_t kMaxArcadyanBytes = 0x1B0000;
/// UEFI firmware volumes: the most FFS files walked in one volume, the largest section one
/// GUID-defined LZMA section may decode to (held in memory to read the sections inside; EDK2
/// images decode to a few MiB), and the deepest nesting of compression/GUID-defined sections.
inline constexpr std::uint32_t kMaxUefiFiles = 65536;
inline constexpr std::uint64_t kMaxUefiSectionBytes = 64 * kMiB;
inline constexpr std::uint32_t kMaxUefiSectionDepth = 8;
/// coreboot CBFS: the most file headers walked in one CBFS (a ROM holds a few dozen to a few
/// hundred) and the longest file name read (cbfstool's names are well under 256 bytes).
inline constexpr std::uint32_t kMaxCbfsFiles = 65536;
inline constexpr std::uint64_t kMaxCbfsNameBytes = 1024;
/// Largest xar table of contents inflated to check it before libarchive reads it (a TOC lists
/// names and attributes: a few KiB per thousand files).
inline constexpr std::uint64_t kMaxXarTocBytes = 64 * kMiB;

/// Warnings of one code listed per container; the rest are counted in one summary warning (no
/// flag: bounds the manifest and the unpacker's memory when a hostile archive repeats an error).
inline constexpr std::uint64_t kMaxWarningsPerCode = 1000;

// Caps on structured text read from files a user names (report.json, policies, suppressions,
// signatures, feeds, envelopes, bundles). They are checked before any parser or recursive walk
// sees the text (check_json_bounds in json.hpp, the TOML pre-scan in src/core/toml.hpp): a
// violation is an error naming the file and the byte offset, never a crash.

/// Deepest nesting of JSON arrays and objects in any file probity reads. probity's own report.json
/// nests 5 deep, NVD and OSV records below 12; nlohmann's copy and dump recurse once per level.
inline constexpr std::uint32_t kMaxJsonDepth = 64;
/// Largest report.json that diff and attest read back. A 10,000-file scan writes 6.3 MB
/// (~630 bytes a file), so a scan at kMaxEntries stays near 320 MB.
inline constexpr std::uint64_t kMaxReportBytes = 512 * kMiB;
/// Largest end-of-life data file (data/eol/*.json: a few KB each).
inline constexpr std::uint64_t kMaxEolFileBytes = 1 * kMiB;
/// One record (one CVE or OSV entry) of a vulnerability feed; bigger ones are skipped and counted.
inline constexpr std::uint64_t kMaxVulnRecordBytes = 64 * kMiB;
/// A feed file that is one document (a single record or an OSV array that is not streamed).
inline constexpr std::uint64_t kMaxVulnDocumentBytes = 512 * kMiB;
/// A server's configuration file read to tell where it listens (lighttpd.conf, sshd_config,
/// /etc/config/uhttpd...: a few KB); a bigger one is not read and its listener stays unknown.
/// No flag: only the reachability state depends on it.
inline constexpr std::uint64_t kMaxServiceConfigBytes = 1 * kMiB;
/// Largest policy, suppressions or signature file (hand-written TOML: the biggest shipped one,
/// data/signatures/net.toml, is 14 KB).
inline constexpr std::uint64_t kMaxTomlBytes = 4 * kMiB;
/// Deepest nesting of TOML tables, arrays and inline tables, counting every dotted-key segment
/// and twice every table-header segment (the shipped policy and signature files count 3 and 4).
/// toml++ caps arrays and inline tables at 256 but not dotted keys, and frees tables
/// recursively: `[a.a.a...]` a million segments long overflows the stack.
inline constexpr std::uint32_t kMaxTomlDepth = 32;

/// The caps in force for one run.
struct Limits {
  std::uint64_t max_total_bytes = kMaxTotalBytes;
  std::uint64_t max_file_bytes = kMaxFileBytes;
  std::uint32_t max_ratio = kMaxRatio;
  std::uint64_t ratio_floor_bytes = kRatioFloorBytes;
  std::uint32_t max_depth = kMaxDepth;
  std::uint64_t max_entries = kMaxEntries;
  std::uint64_t max_record_bytes = kMaxRecordBytes;
  std::uint32_t format_seconds = kFormatSeconds;
  std::uint64_t max_carve_candidates = kMaxCarveCandidates;
};

// ---- probity log serve: what clients may hold (each overridable by a `log serve` flag) ----------

/// Open client connections, all states (--max-connections). At the cap a new connection replaces
/// the one that has waited longest for its request; when every connection is busy it is refused.
/// Also kept below the process's open-file limit.
inline constexpr std::size_t kServeMaxConnections = 1024;
/// Connections that have not completed a request yet: unauthenticated, possibly silent or
/// trickling (--max-pending-connections). At the cap the oldest of them is closed.
inline constexpr std::size_t kServeMaxPendingConnections = 512;
/// Open connections from one source address (--max-connections-per-address); at the cap that
/// address's connection waiting longest for a request is closed.
inline constexpr std::size_t kServeMaxConnectionsPerAddress = 128;
/// A whole request (line, headers, body) must arrive within this time of its connection opening,
/// or of its first byte on a kept-alive connection, however the bytes trickle
/// (--request-timeout-ms). Then the connection is closed.
inline constexpr std::uint32_t kServeRequestTimeoutMs = 5000;
/// How long a kept-alive connection may wait for its next request.
inline constexpr std::uint32_t kServeIdleTimeoutMs = 5000;
/// How long a client may take to read a whole response.
inline constexpr std::uint32_t kServeWriteTimeoutMs = 10000;
/// Request line plus headers; larger is refused with 431.
inline constexpr std::size_t kServeMaxHeadBytes = 16 * 1024;
/// Requests per second one source address may make (token bucket; --rate-per-address, 0: no
/// limit); past it 429. The bucket holds kServeBurstSeconds of requests.
inline constexpr double kServeRequestsPerSecondPerAddress = 1000;
inline constexpr double kServeBurstSeconds = 2;

/// report.html's evidence view: findings given a file view (strings and a hexdump around the
/// evidence offset, the container chain), and the bytes shown around each offset.
inline constexpr std::size_t kMaxHtmlEvidenceViews = 2000;
inline constexpr std::uint64_t kHtmlHexdumpBytes = 256;
inline constexpr std::uint64_t kHtmlStringsWindow = 2048;
/// Image-map regions drawn in report.html (the rest are counted).
inline constexpr std::size_t kMaxHtmlRegions = 5000;

// Caps of `probity source` (docs/source-audit.md). A source tree is hostile too: every file is
// read through these caps, and whatever one stops is listed in report.json and makes the verdict
// inconclusive.
/// Largest file read (version macros, build steps, the checks); larger ones are not read.
inline constexpr std::uint64_t kMaxSourceFileBytes = 16 * kMiB;
/// Most files (of any type) looked at in one tree; the rest are not read.
inline constexpr std::uint64_t kMaxSourceFiles = 200'000;
/// Deepest directory descended into (the tree's root is depth 0).
inline constexpr std::uint32_t kMaxSourceDepth = 64;
/// Largest C/C++ file handed to libclang (generated monsters are not parsed).
inline constexpr std::uint64_t kMaxSourceParseBytes = 2 * kMiB;
/// Wall-clock budget of all libclang parses of one run; files not parsed when it runs out are
/// listed. (One parse cannot be interrupted through libclang's C API: kMaxSourceParseBytes and
/// the single-file mode, which reads no headers, bound each one.)
inline constexpr std::uint32_t kSourceParseSeconds = 300;
/// `probity source --image/--scan` (what the source does not explain): most ELF files of the
/// image mapped to the source (the rest are listed, inconclusive); no flag: an image with more
/// ELFs than this is a scan's job, not a source audit's.
inline constexpr std::uint64_t kMaxExplainBinaries = 20'000;
/// Largest ELF read for its strings and symbols (larger ones are listed, inconclusive).
inline constexpr std::uint64_t kMaxExplainBinaryBytes = 256 * kMiB;
/// Most strings and symbols taken from one ELF (the rest are counted as not looked at).
inline constexpr std::uint64_t kMaxExplainStrings = 2'000'000;
/// Most unexplained strings/symbols reported as findings per binary (the rest are counted in
/// report.json's source.binaries[].unexplained_total).
inline constexpr std::size_t kMaxUnexplainedFindings = 200;
/// Most section headers of one ELF looked at (a hostile e_shnum can claim millions).
inline constexpr std::size_t kMaxExplainSections = 4096;
/// `probity source diff`: most changed hunks of security-relevant files reported (the rest
/// are counted in diff.json's source.hunks_total); and lines of each hunk's text kept.
inline constexpr std::size_t kMaxSourceDiffHunks = 2000;
inline constexpr std::size_t kMaxSourceDiffHunkLines = 40;
/// `probity source`: wall-clock limit of each sandboxed generator run (autoconf, automake)
/// that regenerates a tree's configure and Makefile.in files; and most Makefile.in compared.
/// No flag: `--no-regenerate` switches the check off.
inline constexpr std::uint32_t kRegenerateSeconds = 120;
inline constexpr std::size_t kMaxRegeneratedFiles = 500;
/// Most toolchain headers read to learn compiler/libc strings (the #include closure of the
/// tree, resolved in the toolchain's include directory).
inline constexpr std::size_t kMaxToolchainHeaders = 8'000;
/// Most bytes of string literals kept in the source index (tree and toolchain together); past
/// it, literals are not indexed and the run is inconclusive.
inline constexpr std::uint64_t kMaxSourceLiteralBytes = 512 * kMiB;

// ---- unpack: caps of single format readers ----------------------------------------------------
// No flags: each bounds what one hostile header can make one reader allocate or walk (most are
// far above what any real image holds); the run's caps above (kMaxFileBytes, kMaxEntries,
// kMaxTotalBytes, kFormatSeconds, all with flags) bound the rest.
/// Memory a decoder may allocate for its dictionary/window (xz, lzma, lzip, zstd).
inline constexpr std::uint64_t kMaxDecoderMemory = 256 * kMiB;
/// Device trees (dtb, FIT): nodes parsed from one tree (a large SoC dtb has a few thousand),
inline constexpr std::uint32_t kMaxFdtNodes = 65'536;
/// properties, node nesting, name length, property size, memory reservations, and the longest
/// string read from a property (descriptions, algorithm names).
inline constexpr std::uint32_t kMaxFdtProps = 1'000'000;
inline constexpr std::uint32_t kMaxFdtDepth = 64;
inline constexpr std::uint32_t kMaxFdtNameBytes = 1024;
/// (A single property may be large: FIT images embed kernels and root filesystems.)
inline constexpr std::uint64_t kMaxFdtPropBytes = 1ull << 31;
inline constexpr std::uint32_t kMaxFdtReservations = 1024;
inline constexpr std::size_t kMaxFdtStringBytes = 4096;
/// dtb: property values above this size are elided from the .dts text written (embedded blobs).
inline constexpr std::uint64_t kMaxDtsValueBytes = 64 * 1024;
/// FIT: images extracted from one FIT, and payloads above this size elided from fit.dts.
inline constexpr std::size_t kMaxFitImages = 1024;
inline constexpr std::uint64_t kMaxFitDtsValueBytes = 256;
/// uImage multi-file images: most sub-images listed (a real one holds two or three).
inline constexpr std::uint32_t kMaxUimageMultiFiles = 256;
/// Netgear CHK: longest board id accepted ("U12H072T00_NETGEAR"; mkchkimg allows 64).
inline constexpr std::uint64_t kMaxChkBoardIdBytes = 64;
/// ELF carving: most program or section headers a header may declare for it to be taken as ELF.
inline constexpr std::uint32_t kMaxElfCarveHeaders = 65535;
/// TRX: partitions of a version 2 header (the format has room for four offsets).
inline constexpr std::uint32_t kMaxTrxParts = 4;
/// cpio: longest member name accepted.
inline constexpr std::uint64_t kMaxCpioNameBytes = 4096;
/// squashfs 1.x-3.x: decompressed metadata blocks kept in memory at once (the cache is dropped
/// when it is full).
inline constexpr std::uint64_t kMaxSquashfsLegacyMetaCache = 64 * kMiB;
/// squashfs 1.x-3.x: format-error warnings listed per image; the rest are counted in one last
/// warning.
inline constexpr std::uint64_t kMaxSquashfsLegacyWarnings = 1000;
/// Tenvis PK2: sections looked at in one package (a real one holds a few dozen).
inline constexpr std::uint32_t kMaxTenvisSections = 4096;
/// zstd: largest window a frame may ask for (2^27 = 128 MiB, within kMaxDecoderMemory).
inline constexpr int kMaxZstdWindowLog = 27;
/// 7z: largest next header accepted (headers list names and sizes: megabytes at most).
inline constexpr std::uint64_t kMax7zNextHeaderBytes = 64 * kMiB;
/// UBIFS: index tree depth and index nodes visited.
inline constexpr std::uint32_t kMaxUbifsIndexLevels = 64;
inline constexpr std::uint64_t kMaxUbifsIndexNodes = 4'000'000;
/// SEAMA: entities looked at in one image (a real one holds one to three).
inline constexpr std::uint32_t kMaxSeamaEntities = 64;
/// UBI: volumes in one image (UBI's own maximum).
inline constexpr std::uint32_t kMaxUbiVolumes = 128;
/// Broadcom SAO: records looked at in one image (a real one holds a handful).
inline constexpr std::uint32_t kMaxSaoRecords = 256;
/// zip: bytes searched backwards from the end for the end-of-central-directory record.
inline constexpr std::uint64_t kMaxZipEocdSearch = 2 * kGiB;
/// Xiaomi HDR1/HDR2: blob offsets read from the header (the format has room for eight).
inline constexpr int kMaxXiaomiBlobs = 8;
/// Alpha Networks script images: the script (and the base64 helper) must fit in this many bytes
/// before the firmware.
inline constexpr std::uint64_t kMaxAlphaScriptBytes = 4 * kMiB;
/// JFFS2: data one inode node may carry (the kernel writes at most a page), and nodes read from
/// one image.
inline constexpr std::uint32_t kMaxJffs2NodeData = 1u << 20;
inline constexpr std::uint64_t kMaxJffs2Nodes = 4'000'000;
/// JFFS2: bytes of neither nodes nor erased flash after the last node before the scan stops (the
/// end of this filesystem; what follows may be another format).
inline constexpr std::uint64_t kMaxJffs2Garbage = 4096;

// ---- identify: what identification reads from untrusted files -----------------------------------
// No flags: a file past a cap is skipped or cut with a warning, never silently.
/// Largest file identification scans (larger files are skipped, with a warning).
inline constexpr std::uint64_t kMaxScanFileBytes = 512ull << 20;
/// Signature matches looked at per file; its scan stops beyond this.
inline constexpr std::size_t kMaxMatchesPerFile = 20000;
/// Longest matched span examined for a version.
inline constexpr std::size_t kMaxMatchSpan = 256;
/// Largest package database read (dpkg status, opkg status, apk installed, rpm).
inline constexpr std::uint64_t kMaxMetadataBytes = 16ull << 20;
/// RPM databases (rpmdb.sqlite): packages read, index entries per header (rpm's own bound), and
/// the SQLite virtual-machine instructions the query may run (a hostile database's page loops).
inline constexpr std::size_t kMaxRpmPackages = 100000;
inline constexpr std::uint32_t kMaxRpmHeaderEntries = 0xffff;
inline constexpr std::uint64_t kMaxRpmdbInstructions = 200'000'000;
/// Longest version string taken from a match.
inline constexpr std::size_t kMaxVersionLength = 64;
/// Largest data/signatures/cpe-aliases.tsv read.
inline constexpr std::uint64_t kMaxAliasFileBytes = 4ull << 20;
/// ELF files read for facts (identify's SONAMEs and version tags, the checks' hardening and
/// imports; counts and offsets are the file's own): .dynamic entries read.
inline constexpr std::size_t kMaxElfDynamicEntries = 4096;
/// ELF: verdef + verneed (+ aux) nodes read.
inline constexpr std::size_t kMaxElfVersionNodes = 4096;
/// ELF: longest SONAME or version name kept (longer names are cut).
inline constexpr std::size_t kMaxElfNameLength = 256;

// ---- checks: what the back-door checks read, and how many findings of a kind one file gives -----
// No flags: per-file output caps keep one generated file from burying the report (the rest are
// counted); read caps bound hostile counts and sizes.
/// Largest file the checks read (bytes past this are not looked at; a warning finding says so).
inline constexpr std::uint64_t kMaxCheckFileBytes = 256 * kMiB;
/// Largest text file (passwd, shadow, init scripts, configs) parsed line by line.
inline constexpr std::uint64_t kMaxConfigBytes = 4 * kMiB;
/// Longest string kept from a binary by the checks (longer runs are cut).
inline constexpr std::size_t kMaxStringLength = 512;
/// ELF: symbols read per symbol table (a hostile table can claim millions).
inline constexpr std::size_t kMaxElfSymbols = 200'000;
/// ELF: program headers read.
inline constexpr std::size_t kMaxElfProgramHeaders = 4096;
/// PEM blocks read per file (a CA bundle holds a few hundred).
inline constexpr std::size_t kMaxPemBlocks = 2000;
/// Longest PEM block accepted (a 16384-bit RSA key is ~13 KB).
inline constexpr std::size_t kMaxPemBlockBytes = 64 * 1024;
/// Entries read per passwd, shadow or group file (a real passwd has tens).
inline constexpr std::size_t kMaxAccountEntries = 10'000;
/// authorized_keys: keys reported per file.
inline constexpr std::size_t kMaxAuthorizedKeysPerFile = 100;
/// endpoints: distinct endpoints reported per file.
inline constexpr std::size_t kMaxEndpointsPerFile = 100;
/// endpoints: raw matches looked at per file (vectorscan reports every end of a growing match).
inline constexpr std::size_t kMaxEndpointRawMatches = 200'000;
/// update integrity: update-server findings per file.
inline constexpr std::size_t kMaxUpdateServersPerFile = 20;
/// default credentials: candidate passwords read from data/credentials.
inline constexpr std::size_t kMaxCredentialCandidates = 5000;
/// hard-coded secrets: findings per file (a generated config can hold thousands of keys).
inline constexpr std::size_t kMaxSecretsPerFile = 50;
/// hard-coded secrets: longest value taken as a secret.
inline constexpr std::size_t kMaxSecretLength = 128;
/// hard-coded secrets: entries read from data/credentials/stock-config-samples.txt (a short
/// reviewed list).
inline constexpr std::size_t kMaxSecretSamples = 10'000;
/// debug modes: findings per file.
inline constexpr std::size_t kMaxDebugHitsPerFile = 10;

// ---- vulnerability data: imports, updates, snapshots, reachability -----------------------------
// No flags: feeds are read under kMaxVulnRecordBytes/kMaxVulnDocumentBytes above; these bound the
// rest (a broken feed is an error naming the file, never a crash).
/// Reachability: symlink hops followed inside the tree (as kMaxLinkHops does for opening files).
inline constexpr int kMaxReachabilityHops = 8;
/// Reachability: libraries visited per executable's DT_NEEDED closure, ELF files read in all, and
/// the largest ELF read.
inline constexpr std::size_t kMaxReachabilityClosure = 256;
inline constexpr std::size_t kMaxReachabilityElfReads = 4096;
inline constexpr std::uint64_t kMaxReachabilityElfBytes = 64ull << 20;
/// Warnings kept per triage text file read (KEV, EPSS, endoflife.date); the rest are counted.
inline constexpr std::size_t kMaxIntelTextWarnings = 20;
/// `db update`: largest HTTP response body accepted (one feed document).
inline constexpr std::uint64_t kMaxUpdateResponseBytes = kMaxVulnDocumentBytes;
/// `db import`: warnings kept per import (the rest are counted).
inline constexpr std::size_t kMaxVulnDbWarnings = 20;
/// Signed database snapshots (`db export`/`db import --trust`): the signed note's size, and the
/// snapshot's (read whole to be hashed).
inline constexpr std::size_t kMaxSnapshotNoteBytes = 16 * 1024;
inline constexpr std::uint64_t kMaxSnapshotBytes = kMaxVulnDocumentBytes * 4;

// ---- diff and equiv ----------------------------------------------------------------------------
// Flags where named; the others bound how much one comparison lists (the rest is counted).
/// Most removed x added pairs compared by similarity (a warning says when the cap was hit, and
/// the files left are reported as removed and added).
inline constexpr std::uint64_t kMaxSimilarityPairs = 200'000;
/// Largest prefix of a file fed to ssdeep (a moved firmware blob of gigabytes is compared by its
/// first part; equal content is caught by hash before this).
inline constexpr std::uint64_t kMaxSimilarityFileBytes = 64 * kMiB;
/// Differences recorded per comparison before the rest are only counted (--max-differences).
inline constexpr std::size_t kMaxEquivDifferences = 10'000;
/// Byte ranges listed per differing file or region; more are counted, not listed.
inline constexpr std::size_t kMaxEquivRanges = 64;
/// FIT nodes compared per tree (a real FIT has tens; the rest are left uncompared, with a warning).
inline constexpr std::size_t kMaxFitNodes = 10000;
/// Text files larger than this are compared as bytes, not lines (--max-diff-bytes).
inline constexpr std::uint64_t kMaxTextDiffBytes = 1 * kMiB;
/// Lines of unified diff kept per text file; the rest is cut with a marker.
inline constexpr std::size_t kMaxUnifiedDiffLines = 2'000;
/// Cells of the line LCS table (changed lines × changed lines after trimming the common prefix
/// and suffix); above it the changed middle is shown as one replaced hunk.
inline constexpr std::uint64_t kMaxLcsCells = 4'000'000;
/// Symbols named per differing ELF byte range.
inline constexpr std::size_t kMaxSymbolsPerRange = 16;
/// A key or signature file is two short lines; anything larger is not one.
inline constexpr std::size_t kMaxUsignFileBytes = 4096;

// ---- fleet
// ----------------------------------------------------------------------------------------
/// Other images listed per fleet-wide-key finding (the message says how many more there are).
inline constexpr std::size_t kMaxFleetSightings = 20;

// ---- transparency log, attest, verify: what is read from untrusted logs, notes and bundles ------
// No flags: the sizes are the formats' own (tlog-tiles, signed notes, DSSE) or far above them.
/// tlog-tiles entry bundles prefix each entry with a big-endian uint16 length.
inline constexpr std::size_t kMaxEntryBytes = 65535;
/// A Merkle proof for any tree of at most 2^63 leaves has at most 64 hashes.
inline constexpr std::size_t kMaxProofHashes = 64;
/// Signed notes (checkpoints) read from untrusted sources: size and signature lines.
inline constexpr std::size_t kMaxNoteBytes = 1 << 20;
inline constexpr std::size_t kMaxNoteSignatures = 100;
/// A DSSE envelope's signatures, and a proof bundle's size.
inline constexpr std::size_t kMaxDsseSignatures = 64;
inline constexpr std::size_t kMaxBundleBytes = 8 << 20;
/// How many consistency proofs (from earlier checkpoint sizes) a bundle carries at most.
inline constexpr std::size_t kMaxBundleConsistencyProofs = 64;
/// Entries committed in one transaction at most: bounds a batch's latency and memory.
inline constexpr std::size_t kMaxCommitBatch = 4096;
/// A statement payload is small JSON; larger payloads are not parsed for subjects.
inline constexpr std::size_t kMaxStatementBytes = kMaxEntryBytes;
/// Key names are short printable identifiers; the cap keeps hostile keys small.
inline constexpr std::size_t kMaxKeyNameBytes = 256;
/// Witnesses per checkpoint a log stores (each posted line is kept once).
inline constexpr std::size_t kMaxCosignaturesPerCheckpoint = 32;
/// Problems `Log::check` lists; more are counted in a last line.
inline constexpr std::size_t kMaxCheckProblems = 20;
/// A checkpoint's extension lines are the log's business; cap how many a reader accepts.
inline constexpr std::size_t kMaxExtensionLines = 64;
/// Per-address request buckets remembered; past it, those of addresses without a connection are
/// forgotten (they start again with a full bucket).
inline constexpr std::size_t kMaxTrackedAddresses = 65536;
/// A tile is at most 256 hashes; entry responses are not fetched by the witness.
inline constexpr std::size_t kMaxTileBytes = 256 * 32;
/// Tiles fetched for one consistency proof at most (2 per proof hash is plenty).
inline constexpr std::size_t kMaxTileFetches = 4 * kMaxProofHashes;
/// `log` CLI: a token file holds one line.
inline constexpr std::size_t kMaxLogTokenBytes = 4096;
/// `attest`: the verdict copied into the predicate when it has no summary fields and is small.
inline constexpr std::size_t kMaxVerdictBytes = 8192;

// ---- probity source: the hand-written readers' line and work caps -------------------------------
// No flags (the tree's caps above have their reasons).
/// Version macros: regexes run only on lines of at most this many bytes (longer lines are cut).
inline constexpr std::size_t kMaxSourceVersionLine = 512;
/// meson's project( ... ) call is read up to this many bytes past "project(".
inline constexpr std::size_t kMaxSourceCallBytes = 4096;
/// Build files: longest logical line (continuations joined) looked at.
inline constexpr std::size_t kMaxBuildLogicalLine = 16 * 1024;
/// Longest string tried as literals laid end to end (the search is cubic in its length).
inline constexpr std::size_t kMaxExplainPiecesString = 256;
/// `source --image`: values kept per string macro, and expansions per pattern (bounds on a
/// heuristic's work: a name defined in many configurations keeps its first values).
inline constexpr std::size_t kMaxExplainMacroValues = 8;
inline constexpr std::size_t kMaxExplainExpansions = 16;

}  // namespace probity
