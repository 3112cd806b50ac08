import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// qga-exporter against the test bed, scraped by a real Prometheus (Debian's `prometheus`),
/// queried through Prometheus's HTTP API: the guest's agent up and its data disk's size;
/// with the agent killed in the guest, scrapes still answer at once and report it down.
@Suite(
    .serialized,
    .enabled(
        if: TestBed.current != nil && (Prometheus.installed || TestBed.required),
        "needs the VM test bed (scripts/vm-testbed up) and Debian's prometheus package"))
struct VMExporterTests {
    let bed = TestBed.current!

    @Test func prometheusScrapesTheGuestAndSeesItsAgentGoDown() throws {
        try #require(Prometheus.installed, "\(Prometheus.server) is missing: Debian's prometheus package (.ci/run installs it)")
        let dir = try TemporaryDirectory("qga-exporter-vm")
        defer { dir.remove() }
        let start = Date()
        func elapsed() -> String { String(format: "%.1f s", Date().timeIntervalSince(start)) }

        // The exporter: a fast poll, so that the test waits seconds, not the defaults' minutes.
        let exporterPort = try freeTCPPort()
        let exporterLog = dir.path + "/exporter.log"
        let exporter = try spawnDetached(
            try Binaries.path("qga-exporter"),
            [
                "-c", bed.uri, "--web.listen-address", "127.0.0.1:\(exporterPort)", "--interval", "1",
                "--slow-interval", "5", "--agent-timeout", "2",
            ], log: exporterLog)
        var exporterStopped = false
        defer { if !exporterStopped { kill(exporter, SIGKILL); _ = waitForExit(exporter, timeout: 10) } }
        let healthy = poll(seconds: 30) { (try? httpGet(port: exporterPort, "/-/healthy"))?.status == 200 }
        try #require(healthy, "qga-exporter did not answer /-/healthy within 30 s: \(logTail(exporterLog))")

        let prometheus = try Prometheus(directory: dir.path, target: "127.0.0.1:\(exporterPort)")
        defer { prometheus.stop() }
        let ready = poll(seconds: 60) { (try? httpGet(port: prometheus.port, "/-/ready"))?.status == 200 }
        try #require(ready, "Prometheus was not ready within 60 s: \(logTail(prometheus.log))")
        print("VMExporterTests: exporter and Prometheus up at \(elapsed())")

        // Through PromQL: the agent answers, and the guest's data disk has its size.
        let domain = "domain=\"\(bed.domain)\""
        let up = try prometheus.waitForSeries("qga_agent_up{\(domain)} == 1", seconds: 60)
        try #require(up != nil, "qga_agent_up == 1 never showed: \(logTail(exporterLog))")
        let sizeQuery = "qga_filesystem_size_bytes{\(domain),mountpoint=\"/mnt/data\"}"
        let size = try prometheus.waitForSeries(sizeQuery, seconds: 60)
        try #require(size != nil, "\(sizeQuery) never showed")
        let bytes = size?.value ?? 0
        // The agent's own figure (total-bytes: used + available) for the 64 MiB ext4 disk.
        let fsinfo = try JSONParser.parse(try bed.qga("exec", [bed.domain, "guest-get-fsinfo"]).stdout)
        let data = fsinfo.array?.first { $0["mountpoint"]?.string == "/mnt/data" }
        let agentBytes = data?["total-bytes"]?.number?.double ?? -1
        #expect(bytes > 32 * 1_048_576 && bytes <= 64 * 1_048_576, "\(sizeQuery) = \(bytes)")
        #expect(abs(bytes - agentBytes) <= 1_048_576, "Prometheus has \(bytes), the agent says \(agentBytes)")
        #expect(size?.labels["type"] == "ext4" && size?.labels["connection"] == bed.uri, "\(String(describing: size))")
        // The README's query for full filesystems: used and size pair up label for label.
        let fill = try prometheus.query(
            "qga_filesystem_used_bytes{\(domain),mountpoint=\"/mnt/data\"} / qga_filesystem_size_bytes{\(domain),mountpoint=\"/mnt/data\"}")
        #expect(fill.count == 1 && (0...1).contains(fill.first?.value ?? -1), "used / size: \(fill)")
        print("VMExporterTests: PromQL at \(elapsed()): \(up.map { "\($0)" } ?? "-"); \(sizeQuery) = \(bytes) (agent: \(agentBytes))")

        // A live scrape passes promtool's lint.
        let scrape = try httpGet(port: exporterPort, "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", "\(scrape.headers)")
        let lint = try run(Prometheus.promtool, ["check", "metrics"], stdin: scrape.body)
        #expect(lint.status == 0 && lint.stderr.isEmpty, "promtool check metrics: \(lint)")
        // A command the agent lacks is left out, not an error: guest-get-load is in qgad,
        // not in Debian 12's qemu-ga 7.2.
        let info = try JSONParser.parse(try bed.qga("exec", [bed.domain, "guest-info"]).stdout)
        let hasLoad = info["supported_commands"]?.array?.contains { $0["name"]?.string == "guest-get-load" } ?? false
        let lines = scrape.text.split(separator: "\n")
        let loadLines = lines.filter { $0.hasPrefix("qga_load1{") && $0.contains(domain) }
        #expect(loadLines.count == (hasLoad ? 1 : 0), "guest-get-load supported: \(hasLoad); \(loadLines)")
        let loadErrors = lines.filter { $0.hasPrefix("qga_poll_errors_total{") && $0.contains("command=\"guest-get-load\"") }
        #expect(loadErrors.allSatisfy { $0.hasSuffix(" 0") || $0.hasSuffix(" 0.0") }, "\(loadErrors)")

        // The usual scrape time, from here.
        var usual: [Double] = []
        for _ in 0..<5 { usual.append(try timedScrape(port: exporterPort).seconds) }
        let usualMax = usual.max() ?? 0

        // The agent on libvirt's channel (0) killed, through the direct one (1); put back
        // whatever happens below.
        defer { restartAgent() }
        let killStarted = Date()
        let killed = try inGuestThroughDirectChannel(
            "pids=$(\(findAgent)); [ -n \"$pids\" ] && kill -9 $pids && echo $pids", channel: 0)
        try #require(killed.status == 0 && !killed.stdoutText.isEmpty, "could not kill the guest's agent: \(killed)")
        let killedAt = Date()

        // Scrapes go on answering at once while the exporter finds the agent gone.
        var during: [Double] = []
        var downInScrape = false
        let sawDown = try poll(seconds: 30) {
            let scrape = try timedScrape(port: exporterPort)
            during.append(scrape.seconds)
            downInScrape = scrape.text.contains("qga_agent_up{") && scrape.text.split(separator: "\n").contains {
                $0.hasPrefix("qga_agent_up{") && $0.contains(domain) && ($0.hasSuffix(" 0") || $0.hasSuffix(" 0.0"))
            }
            return downInScrape
        }
        #expect(sawDown, "the exporter never reported the killed agent down")
        let downAfter = Date().timeIntervalSince(killedAt)
        // A few more while the dead agent's polls time out.
        for _ in 0..<10 { during.append(try timedScrape(port: exporterPort).seconds) }
        let duringMax = during.max() ?? 0
        #expect(duringMax < max(1.0, 10 * usualMax), "a scrape took \(duringMax) s with the agent dead (usual: \(usual))")

        // And Prometheus sees it: the agent down, its own scrapes still up and quick.
        let down = try prometheus.waitForSeries("qga_agent_up{\(domain)} == 0", seconds: 30)
        #expect(down != nil, "Prometheus never saw qga_agent_up == 0")
        let scrapeUp = try prometheus.query("up{job=\"qga-exporter\"}")
        #expect(scrapeUp.first?.value == 1, "\(scrapeUp)")
        let slowest = try prometheus.query("max_over_time(scrape_duration_seconds{job=\"qga-exporter\"}[20s])")
        let slowestSeconds = slowest.first?.value ?? .infinity
        #expect(slowestSeconds < 1.0, "Prometheus's slowest scrape in the last 20 s: \(slowest)")
        print(
            "VMExporterTests: agent killed at \(String(format: "%.1f", killedAt.timeIntervalSince(start))) s "
                + "(the kill through the direct channel took \(String(format: "%.1f", killedAt.timeIntervalSince(killStarted))) s), "
                + "reported down \(String(format: "%.1f", downAfter)) s later; direct scrapes usual max "
                + "\(String(format: "%.4f", usualMax)) s, with the agent dead max \(String(format: "%.4f", duringMax)) s "
                + "over \(during.count); Prometheus's slowest scrape over 20 s \(slowestSeconds) s")

        // Back: the agent restarted, the exporter sees it up again.
        restartAgent()
        let back = try prometheus.waitForSeries("qga_agent_up{\(domain)} == 1", seconds: 60)
        #expect(back != nil, "the restarted agent never showed up again")

        kill(exporter, SIGTERM)
        exporterStopped = true
        #expect(waitForExit(exporter, timeout: 10) == 0, "qga-exporter did not exit 0 on SIGTERM: \(logTail(exporterLog))")
        print("VMExporterTests: done at \(elapsed())")
    }

    // MARK: - The guest's agent (as scripts/faults finds, kills and restarts it)

    /// The pids of the guest's agent on channel $0 (the test bed runs them without pidfiles).
    let findAgent =
        #"for p in /proc/[0-9]*; do grep -q "org.qemu.guest_agent.$0" "$p/cmdline" 2>/dev/null && [ "$(cat $p/comm)" = guest-agent ] && echo "${p#/proc/}"; done"#

    /// Runs `script` in the guest with `channel` as $0, through the direct channel's socket.
    func inGuestThroughDirectChannel(_ script: String, channel: Int) throws -> ProcessResult {
        try Binaries.qga(["run", bed.directSocket, "--", "/bin/sh", "-c", script, String(channel)], timeout: 60)
    }

    /// (Re)starts the agent on libvirt's channel as the guest's init does, and waits for it
    /// to answer through libvirt.
    func restartAgent() {
        if (try? bed.qga("exec", [bed.domain, "guest-ping"], timeout: 15))?.status == 0 { return }
        let script = """
            for p in $(\(findAgent)); do kill -9 $p; while [ -e /proc/$p ]; do sleep 0.05; done; done
            setsid /usr/sbin/guest-agent -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.$0 -t /run/qga$0 -f /run/qga$0/pid </dev/null >/dev/null 2>&1 &
            """
        let restarted = try? inGuestThroughDirectChannel(script, channel: 0)
        let answers = poll(seconds: 60) { (try? bed.qga("exec", [bed.domain, "guest-ping"], timeout: 15))?.status == 0 }
        #expect(restarted?.status == 0 && answers, "the guest's agent did not come back: \(String(describing: restarted))")
    }
}

// MARK: - Prometheus, started from Debian's package

/// A Prometheus server in `directory`, scraping `target` every second, on a free port.
final class Prometheus {
    static let server = "/usr/bin/prometheus"
    static let promtool = "/usr/bin/promtool"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: server) }

    /// One sample of a query's result vector.
    struct Sample: CustomStringConvertible {
        var labels: [String: String]
        var value: Double
        var description: String { "\(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }) \(value)" }
    }

    let port: Int
    let log: String
    private let pid: pid_t

    init(directory: String, target: String) throws {
        let config = directory + "/prometheus.yml"
        try """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
        scrape_configs:
          - job_name: qga-exporter
            static_configs:
              - targets: ['\(target)']

        """.write(toFile: config, atomically: false, encoding: .utf8)
        let check = try run(Self.promtool, ["check", "config", config])
        guard check.status == 0 else { throw MissingTool("promtool check config: \(check)") }
        port = try freeTCPPort()
        log = directory + "/prometheus.log"
        pid = try spawnDetached(
            Self.server,
            [
                "--config.file=" + config, "--storage.tsdb.path=" + directory + "/data",
                "--web.listen-address=127.0.0.1:\(port)",
            ], log: log)
    }

    func stop() {
        kill(pid, SIGTERM)
        _ = waitForExit(pid, timeout: 20)
    }

    /// The result vector of an instant PromQL query, through /api/v1/query.
    func query(_ promQL: String) throws -> [Sample] {
        let response = try httpGet(port: port, "/api/v1/query?query=" + percentEncoded(promQL))
        let json = try JSONParser.parse(response.body)
        guard response.status == 200, json["status"]?.string == "success", let result = json["data"]?["result"]?.array
        else { throw MissingTool("Prometheus answered \(response.status): \(String(decoding: response.body, as: UTF8.self))") }
        return result.compactMap { sample in
            guard let pair = sample["value"]?.array, pair.count == 2, let text = pair[1].string, let value = Double(text)
            else { return nil }
            var labels: [String: String] = [:]
            for member in sample["metric"]?.object ?? JSONObject() { labels[member.key] = member.value.string }
            return Sample(labels: labels, value: value)
        }
    }

    /// The first sample of `promQL` once its result is not empty, polling up to `seconds`.
    func waitForSeries(_ promQL: String, seconds: Double) throws -> Sample? {
        var found: Sample?
        _ = poll(seconds: seconds) {
            found = (try? query(promQL))?.first
            return found != nil
        }
        return found
    }
}

/// One GET /metrics and how long it took.
func timedScrape(port: Int) throws -> (seconds: Double, text: String) {
    let response = try httpGet(port: port, "/metrics")
    guard response.status == 200 else { throw MissingTool("GET /metrics answered \(response.status)") }
    return (response.seconds, response.text)
}

/// A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick, released at once).
func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A query string's value: everything but RFC 3986's unreserved characters escaped.
func percentEncoded(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}

/// The tail of a log file, for a failure message.
func logTail(_ path: String) -> String {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)"
    return String(text.suffix(2000))
}
