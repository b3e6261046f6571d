// `probity db update` (docs/vulndb.md, "Updates"): NVD CVE API 2.0 pages (incremental by
// lastModStartDate/lastModEndDate in windows of at most 120 days, API key from the environment,
// NVD's rate limits with back-off), the KEV catalogue, EPSS scores, endoflife.date product files
// and optional OSV records. Every response is validated and kept in a work directory beside the
// database, so an interrupted update resumes where it stopped; the live database is replaced only
// after the complete update imported and verified in a copy.
#include <fmt/format.h>
#include <httplib.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "probity/limits.hpp"
#include "probity/vulndb.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// NVD: "The maximum allowable range when using any date range parameters is 120 consecutive
// days"; pages of at most 2,000 records.
/// The NVD API's own limit, not a cap of probity's.
constexpr std::int64_t kMaxWindowDays = 120;

std::string iso(Clock::time_point t) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000", &tm);
  return buf;
}

std::optional<Clock::time_point> parse_iso(const std::string& s) {
  std::tm tm{};
  if (s.size() < 19 || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return Clock::from_time_t(timegm(&tm));
}

struct Url {
  std::string base;  // scheme://host[:port]
  std::string path;  // /rest/json/cves/2.0
};

Result<Url> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos || (!url.starts_with("http://") && !url.starts_with("https://")))
    return fail("not an http(s) URL: " + url);
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return Url{url, "/"};
  return Url{url.substr(0, slash), url.substr(slash)};
}

Status write_file(const fs::path& p, std::string_view body) {
  const fs::path tmp = p.string() + ".part";
  std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
  o.write(body.data(), std::streamsize(body.size()));
  if (!o.flush()) return fail("cannot write", 0, tmp.string());
  o.close();
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return fail("cannot write: " + ec.message(), 0, p.string());
  return {};
}

class Fetcher {
 public:
  Fetcher(const VulnUpdateOptions& o, VulnUpdateResult& r) : opt_(o), res_(r) {}

  // GETs `url` + `query` and hands the body to `valid` (an error there is a bad response to
  // retry, like a 503). Waits the rate-limit interval before each request.
  Result<std::string> get(const std::string& url, const std::string& query,
                          const std::function<Status(const std::string&)>& valid,
                          const httplib::Headers& headers = {}) {
    auto u = split_url(url);
    if (!u) return std::unexpected(u.error());
    std::string last_error;
    for (int attempt = 0; attempt <= opt_.max_retries; ++attempt) {
      pace();
      httplib::Client cli(u->base);
      cli.set_connection_timeout(std::chrono::seconds(10));
      cli.set_read_timeout(std::chrono::seconds(opt_.read_timeout_s));
      cli.set_follow_location(true);
      ++res_.requests;
      std::string body;
      bool too_big = false;
      auto r = cli.Get(u->path + query, headers, [&](const char* data, std::size_t n) {
        if (body.size() + n > kMaxUpdateResponseBytes) {
          too_big = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
      std::chrono::milliseconds wait = backoff(attempt);
      if (too_big) return fail("response larger than kMaxVulnDocumentBytes", 0, url);
      if (!r) {
        last_error = "transport: " + httplib::to_string(r.error());
      } else if (r->status == 200) {
        if (auto ok = valid(body); ok)
          return body;
        else
          last_error = "bad response: " + ok.error().message;
      } else {
        last_error = fmt::format("HTTP {}", r->status);
        // 403 and 429: NVD's "rate limit exceeded"; 5xx: the service is busy or down.
        if (r->status != 403 && r->status != 429 && r->status < 500)
          return fail(last_error, 0, url + query);
        if (r->has_header("Retry-After")) {
          const auto ra = r->get_header_value("Retry-After");
          if (!ra.empty() && std::all_of(ra.begin(), ra.end(), ::isdigit) && ra.size() < 6)
            wait = std::max(wait, std::chrono::milliseconds(std::stoll(ra) * 1000));
        }
      }
      if (attempt == opt_.max_retries) break;
      ++res_.retries;
      if (opt_.log)
        opt_.log(fmt::format("{}{}: {}; retrying in {} ms", url, query, last_error, wait.count()));
      std::this_thread::sleep_for(wait);
    }
    return fail(fmt::format("{} (after {} attempts; run `probity db update` again to resume)",
                            last_error, opt_.max_retries + 1),
                0, url + query);
  }

 private:
  std::chrono::milliseconds backoff(int attempt) const {
    auto ms = opt_.backoff.count() << std::min(attempt, 6);
    return std::chrono::milliseconds(std::min<std::int64_t>(ms, 60000));
  }
  void pace() {
    const auto now = std::chrono::steady_clock::now();
    if (last_ && now - *last_ < opt_.min_interval)
      std::this_thread::sleep_for(opt_.min_interval - (now - *last_));
    last_ = std::chrono::steady_clock::now();
  }
  const VulnUpdateOptions& opt_;
  VulnUpdateResult& res_;
  std::optional<std::chrono::steady_clock::time_point> last_;
};

Status valid_json(const std::string& body) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (auto err = p.parse(body).get(e); err)
    return fail(std::string("invalid JSON (") + simdjson::error_message(err) + ")");
  return {};
}

}  // namespace

Result<VulnUpdateResult> update_vuln_db(const fs::path& db_path, const VulnUpdateOptions& opt_in) {
  VulnUpdateOptions opt = opt_in;
  VulnUpdateResult res;
  if (opt.min_interval.count() < 0)
    // NVD: 5 requests in a rolling 30 s window without a key, 50 with one.
    opt.min_interval = std::chrono::milliseconds(opt.api_key.empty() ? 6000 : 600);
  const fs::path work =
      opt.work_dir.empty() ? fs::path(db_path.string() + ".update") : opt.work_dir;
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) return fail("cannot create the update directory: " + ec.message(), 0, work.string());

  // State: what a previous, interrupted run already fetched.
  nlohmann::json state = nlohmann::json::object();
  const fs::path state_file = work / "state.json";
  if (fs::exists(state_file, ec)) {
    std::ifstream in(state_file);
    state = nlohmann::json::parse(in, nullptr, false);
    if (state.is_discarded() || !state.is_object())
      state = nlohmann::json::object();
    else
      res.resumed = true;
  }
  auto save = [&]() { return write_file(state_file, state.dump(1)); };

  // The NVD windows: from the last complete update (meta nvd_last_mod) to now, fixed at the first
  // attempt so a resumed run asks for the same pages.
  std::string since;
  std::uint64_t before = 0;
  if (fs::exists(db_path, ec)) {
    auto db = VulnDb::open(db_path);
    if (!db) return std::unexpected(db.error());
    auto m = db->meta("nvd_last_mod");
    if (!m) return std::unexpected(m.error());
    since = *m;
    auto st = db->status();
    if (!st) return std::unexpected(st.error());
    before = st->vulnerabilities;
  }
  if (!state.contains("until")) {
    state["until"] = iso(Clock::now());
    state["since"] = since;
    state["pages"] = nlohmann::json::object();
    if (auto s = save(); !s) return std::unexpected(s.error());
  }
  const std::string until = state["until"];
  since = state.value("since", "");

  Fetcher fetch(opt, res);
  std::vector<fs::path> files;
  if (opt.nvd) {
    std::vector<std::pair<std::string, std::string>> windows;  // ("", "") = everything
    if (since.empty()) {
      windows.emplace_back("", "");
    } else {
      auto from = parse_iso(since), to = parse_iso(until);
      if (!from || !to) return fail("bad nvd_last_mod in the database: " + since);
      // At least one window, even when no time has passed since the last update.
      while (*from < *to || windows.empty()) {
        auto end = std::min(*to, *from + std::chrono::hours(24 * kMaxWindowDays));
        windows.emplace_back(iso(*from), iso(end));
        from = end;
      }
    }
    httplib::Headers headers;
    if (!opt.api_key.empty()) headers.emplace("apiKey", opt.api_key);
    for (std::size_t w = 0; w < windows.size(); ++w) {
      const auto& [ws, we] = windows[w];
      std::uint64_t start = 0, total = 1;
      while (start < total) {
        const std::string name = fmt::format("nvd-{}-{}.json", w, start);
        const fs::path file = work / name;
        if (state["pages"].contains(name) && fs::exists(file, ec)) {  // fetched before
          total = state["pages"][name]["total"].get<std::uint64_t>();
          start += state["pages"][name]["count"].get<std::uint64_t>();
          files.push_back(file);
          if (state["pages"][name]["count"].get<std::uint64_t>() == 0) break;
          continue;
        }
        std::string query =
            fmt::format("?resultsPerPage={}&startIndex={}", opt.results_per_page, start);
        // "+00:00" percent-encoded, as NVD's examples write the offset.
        if (!ws.empty())
          query += fmt::format("&lastModStartDate={}%2B00:00&lastModEndDate={}%2B00:00", ws, we);
        std::uint64_t page_total = 0, count = 0;
        auto body = fetch.get(
            opt.nvd_url, query,
            [&](const std::string& b) -> Status {
              simdjson::dom::parser p;
              simdjson::dom::element e;
              if (auto err = p.parse(b).get(e); err)
                return fail(std::string("invalid JSON (") + simdjson::error_message(err) + ")");
              std::uint64_t t = 0, si = 0;
              simdjson::dom::array v;
              if (e["totalResults"].get_uint64().get(t) || e["startIndex"].get_uint64().get(si) ||
                  e["vulnerabilities"].get_array().get(v))
                return fail(
                    "not an NVD CVE API 2.0 page (totalResults/startIndex/vulnerabilities)");
              if (si != start)
                return fail(fmt::format("startIndex {} for a request of {}", si, start));
              const std::uint64_t want =
                  std::min<std::uint64_t>(opt.results_per_page, t > start ? t - start : 0);
              if (v.size() != want)
                return fail(
                    fmt::format("{} records where the page should have {}", v.size(), want));
              page_total = t;
              count = v.size();
              return {};
            },
            headers);
        if (!body) return std::unexpected(body.error());
        if (auto s = write_file(file, *body); !s) return std::unexpected(s.error());
        state["pages"][name] = {{"total", page_total}, {"count", count}};
        if (auto s = save(); !s) return std::unexpected(s.error());
        files.push_back(file);
        ++res.nvd_pages;
        res.nvd_records += count;
        total = page_total;
        start += count;
        if (count == 0) break;
      }
    }
  }
  // The other sources: one document each.
  struct Other {
    bool on;
    std::string url, name;
    std::function<Status(const std::string&)> valid;
  };
  std::vector<Other> others = {
      {opt.kev && !opt.kev_url.empty(), opt.kev_url, "kev.json", valid_json},
      {opt.epss && !opt.epss_url.empty(), opt.epss_url,
       opt.epss_url.ends_with(".gz") ? "epss.csv.gz" : "epss.csv",
       [](const std::string& b) -> Status {
         // gzip magic, or the CSV header (after FIRST's comment line).
         if (b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f &&
             static_cast<unsigned char>(b[1]) == 0x8b)
           return {};
         if (b.find("cve,epss,percentile") == std::string::npos) return fail("not an EPSS CSV");
         return {};
       }},
      // OSV: a JSON array of records, or an ecosystem's all.zip (one record per member).
      {opt.osv && !opt.osv_url.empty(), opt.osv_url,
       opt.osv_url.ends_with(".zip") ? "osv.zip" : "osv.json",
       opt.osv_url.ends_with(".zip")
           ? std::function<Status(const std::string&)>([](const std::string& b) -> Status {
               if (!b.starts_with(std::string_view("PK\x03\x04", 4)) &&
                   !b.starts_with(std::string_view("PK\x05\x06", 4)))
                 return fail("not a zip archive");
               return {};
             })
           : valid_json}};
  for (const auto& product : opt.eol_products)
    others.push_back({opt.eol && !opt.eol_url.empty(), opt.eol_url + "/" + product + ".md",
                      "eol-" + product + ".md", [](const std::string& b) -> Status {
                        if (!b.starts_with("---")) return fail("not an endoflife.date file");
                        return {};
                      }});
  for (const auto& o : others) {
    if (!o.on) continue;
    const fs::path file = work / o.name;
    if (state["pages"].contains(o.name) && fs::exists(file, ec)) {
      files.push_back(file);
      continue;
    }
    auto body = fetch.get(o.url, "", o.valid);
    if (!body) return std::unexpected(body.error());
    if (auto s = write_file(file, *body); !s) return std::unexpected(s.error());
    state["pages"][o.name] = {{"total", 1}, {"count", 1}};
    if (auto s = save(); !s) return std::unexpected(s.error());
    files.push_back(file);
  }

  // Everything is here: import into a copy, verify, then swap.
  const fs::path tmp = db_path.string() + ".updating-" + std::to_string(::getpid());
  fs::remove(tmp, ec);
  if (fs::exists(db_path, ec) && !fs::copy_file(db_path, tmp, ec))
    return fail("cannot copy the database: " + ec.message(), 0, tmp.string());
  struct Remove {
    fs::path p;
    bool keep = false;
    ~Remove() {
      std::error_code e;
      if (!keep) fs::remove(p, e);
    }
  } cleanup{tmp};
  {
    auto db = VulnDb::open(tmp, false);
    if (!db) return std::unexpected(db.error());
    auto imported = db->import_files(files);
    if (!imported) return std::unexpected(imported.error());
    for (const auto& st : *imported)
      if (st.rejected > 0 && opt.log)
        opt.log(fmt::format("{} records rejected in {} ({})", st.rejected, st.format,
                            st.warnings.empty() ? "" : st.warnings.front()));
    auto st = db->status();
    if (!st) return std::unexpected(st.error());
    // An update adds and replaces records; it never loses any.
    if (st->vulnerabilities < before)
      return fail(
          fmt::format("the updated database has {} records, fewer than the {} before "
                      "(not swapped in)",
                      st->vulnerabilities, before));
    auto ok = db->integrity_check();
    if (!ok) return std::unexpected(ok.error());
    if (opt.nvd)
      if (auto s = db->set_meta("nvd_last_mod", until); !s) return std::unexpected(s.error());
    auto snap = db->snapshot_id();
    if (snap) res.snapshot = *snap;
  }
  fs::rename(tmp, db_path, ec);
  if (ec) return fail("cannot replace the database: " + ec.message(), 0, db_path.string());
  cleanup.keep = true;
  fs::remove_all(work, ec);
  return res;
}

}  // namespace probity
