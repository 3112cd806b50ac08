import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// The same requests, byte for byte, to Debian's qemu-ga 7.2 and to qgad, each on its own
/// unix-listen socket with its own state directory; the replies must agree in success or
/// error, error class and text, id echo, 0xFF delimiter and the shape of each reply
/// (member names and JSON types, recursively). Values are compared only where they are
/// stable on one host (names of disks, mounts and interfaces, booleans, exec output...).
///
/// Every difference must be listed in `knownDifferences` (deliberate, documented in the
/// README) or in `pendingFixes` (bugs, with the issue item that fixes them); anything else
/// fails, and so does an entry whose difference is no longer seen.
///
/// Only read-only commands and commands on the agents' own temporary files and child
/// processes: both agents run as root on this host. Never add guest-fsfreeze-freeze*,
/// guest-fstrim, guest-shutdown, guest-suspend-*, guest-set-time, guest-set-vcpus,
/// guest-set-memory-blocks, guest-set-user-password or ssh keys for real users here, except
/// with arguments that fail QAPI's argument checks (and then `online: true` only, so that
/// even an agent that wrongly accepted one could offline nothing).
@Suite struct DifferentialTests {
    // MARK: - The one list of accepted differences

    /// Differences accepted for one step of one case: `request` is `case/step`, `aspects`
    /// name what differs (`replies`, `outcome`, `delimiter`, `id`, `reply members`,
    /// `error class`, `error text`, `error shape`, `shape`, `value:NAME`, or
    /// `stray 0xFF error`: qemu-ga's error reply for a 0xFF, left out before comparing).
    struct Allowance: Sendable, CustomStringConvertible {
        var request: String
        var aspects: [String]
        /// Why (known differences), or the issue item that fixes it and what is wrong.
        var reason: String
        init(_ request: String, _ aspects: [String], _ reason: String) {
            self.request = request
            self.aspects = aspects
            self.reason = reason
        }
        var description: String { "\(request) \(aspects): \(reason)" }
    }

    /// Deliberate differences, each documented in README.md ("Where it differs from
    /// qemu-ga, deliberately").
    static let knownDifferences: [Allowance] = [
        .init("guest-info/info", ["value:version"], "guest-info reports qgad's own version"),
        .init("0xff/alone", ["stray 0xFF error"], "a 0xFF resets the parser without the \"stray\" error reply"),
        .init("0xff/mid-request", ["stray 0xFF error"], "a 0xFF resets the parser without the \"stray\" error reply"),
        .init("0xff/sync-delimited", ["stray 0xFF error"], "a 0xFF resets the parser without the \"stray\" error reply"),
        .init("0xfe/mid-request", ["stray 0xFF error"],
              "0xFE, which QEMU's lexer treats as 0xFF, resets the parser without the \"stray\" error reply either"),
        .init("deep-nesting/1100", ["replies"],
              "input nested over 1024 levels gets one error reply and is skipped, not one error per leftover token"),
        .init("token-limit/2M", ["replies"],
              "a message over QEMU's token limit gets one error reply and is skipped, not one error per leftover token"),
        .init("malformed/bad-number", ["replies"],
              "a message with a lexical error gets one error reply and is skipped, not one error per leftover token"),
        .init("strings/control-char", ["replies"],
              "a message with a lexical error gets one error reply and is skipped, not one error per leftover token"),
        .init("strings/raw-newline", ["replies"],
              "a message with a lexical error gets one error reply and is skipped, not one error per leftover token"),
        .init("guest-info/info", ["value:commands"],
              "qgad also implements read-only commands of newer QEMU (guest-get-load, guest-network-get-route)"),
        .init("guest-get-fsinfo/fsinfo", ["shape"], "guest-get-fsinfo reports total-bytes-privileged, as current QEMU does"),
        .init("exec-errors/capture-string", ["outcome"],
              "guest-exec takes capture-output as a boolean or as current QEMU's mode (\"merged\", ...)"),
    ]

    /// Differences that are bugs in qgad (or not yet decided), to be removed as fixes land.
    /// `reason` starts with the item of issue 8 that fixes it ("item N"), or "new" for one
    /// that no item covers.
    static let pendingFixes: [Allowance] = [
    ]

    // MARK: - Cases

    /// One scenario, run the same way against both agents.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var run: @Sendable (DifferentialSession) -> Void
        init(_ name: String, _ run: @escaping @Sendable (DifferentialSession) -> Void) {
            self.name = name
            self.run = run
        }
        var description: String { name }
    }

    typealias Values = @Sendable ([RecordedReply]) -> [String: String]

    /// Compares the whole `return` value (member order aside).
    static let exact: Values = { replies in
        replies.first?.value?["return"].map { ["return": $0.sortingMembers.description] } ?? [:]
    }

    /// Compares `f` of the `return` value as `value:NAME`.
    static func returned(_ name: String = "return", _ f: @escaping @Sendable (JSONValue) -> String) -> Values {
        { replies in replies.first?.value?["return"].map { [name: f($0)] } ?? [:] }
    }

    /// The elements of an array, each described by `f`, sorted and joined: a list whose
    /// order is not the agents' to define.
    static func sortedList(_ value: JSONValue?, _ f: (JSONValue) -> String) -> String {
        (value?.array ?? []).map(f).sorted().joined(separator: "; ")
    }

    static func text(_ value: JSONValue?) -> String { value.map { $0.sortingMembers.description } ?? "-" }

    static func request(_ command: String, _ arguments: String? = nil) -> String {
        arguments.map { #"{"execute":"\#(command)","arguments":\#($0)}"# } ?? #"{"execute":"\#(command)"}"#
    }

    static let cases: [Case] = readOnlyCases + fileCases + execCases + protocolCases

    static let readOnlyCases: [Case] = [
        Case("guest-ping") { $0.call("ping", request("guest-ping"), values: exact) },
        Case("guest-info") { s in
            s.call("info", request("guest-info")) { replies in
                let info = replies.first?.value?["return"]
                return [
                    "version": text(info?["version"]),
                    "commands": sortedList(info?["supported_commands"]) { text($0) },
                    "disabled": (info?["supported_commands"]?.array ?? []).filter { $0["enabled"]?.bool == false }
                        .map { text($0["name"]) }.sorted().joined(separator: "; "),
                ]
            }
        },
        Case("guest-get-osinfo") { $0.call("osinfo", request("guest-get-osinfo"), values: exact) },
        Case("guest-get-time") { s in
            s.call("time", request("guest-get-time"), values: returned("near-now") { value in
                guard let ns = value.number?.double else { return "not a number" }
                return abs(ns / 1e9 - Date().timeIntervalSince1970) < 60 ? "within a minute of now" : "off by \(ns / 1e9 - Date().timeIntervalSince1970) s"
            })
        },
        Case("guest-get-timezone") { $0.call("zone", request("guest-get-timezone"), values: exact) },
        Case("guest-get-host-name") { $0.call("name", request("guest-get-host-name"), values: exact) },
        Case("guest-get-users") { s in
            s.call("users", request("guest-get-users"), values: returned("users") { sortedList($0) { "\(text($0["user"])) \(text($0["domain"]))" } })
        },
        Case("guest-get-vcpus") { $0.call("vcpus", request("guest-get-vcpus"), values: returned { sortedList($0) { text($0) } }) },
        Case("guest-get-memory-blocks") { s in
            s.call("blocks", request("guest-get-memory-blocks"), values: returned { sortedList($0) { text($0) } })
        },
        Case("guest-get-memory-block-info") { $0.call("info", request("guest-get-memory-block-info"), values: exact) },
        Case("guest-network-get-interfaces") { s in
            s.call("interfaces", request("guest-network-get-interfaces")) { replies in
                let list = replies.first?.value?["return"]
                return [
                    "names": sortedList(list) { text($0["name"]) + " " + text($0["hardware-address"]) },
                    "addresses": sortedList(list) { i in
                        text(i["name"]) + ": " + sortedList(i["ip-addresses"]) { "\(text($0["ip-address-type"])) \(text($0["ip-address"]))/\(text($0["prefix"]))" }
                    },
                ]
            }
        },
        Case("guest-get-fsinfo") { s in
            s.call("fsinfo", request("guest-get-fsinfo")) { replies in
                let list = replies.first?.value?["return"]
                return [
                    "filesystems": sortedList(list) { "\(text($0["mountpoint"])) \(text($0["name"])) \(text($0["type"]))" },
                    "disks": sortedList(list) { f in text(f["mountpoint"]) + ": " + sortedList(f["disk"]) { text($0["dev"]) } },
                ]
            }
        },
        Case("guest-get-disks") { s in
            s.call("disks", request("guest-get-disks")) { replies in
                let list = replies.first?.value?["return"]
                return [
                    "disks": sortedList(list) { "\(text($0["name"])) partition=\(text($0["partition"])) deps=\(text($0["dependencies"])) alias=\(text($0["alias"]))" },
                ]
            }
        },
        Case("guest-get-cpustats") { s in
            s.call("stats", request("guest-get-cpustats")) { replies in
                let list = replies.first?.value?["return"]
                return [
                    "cpus": sortedList(list) { "\(text($0["type"])) \(text($0["cpu"]))" },
                    "unit": cpuTimeUnit(list),
                ]
            }
        },
        Case("guest-get-diskstats") { s in
            s.call("stats", request("guest-get-diskstats"), values: returned("disks") { sortedList($0) { "\(text($0["name"])) \(text($0["major"])):\(text($0["minor"]))" } })
        },
        Case("guest-fsfreeze-status") { $0.call("status", request("guest-fsfreeze-status"), values: exact) },
        Case("guest-get-devices") { $0.call("call", request("guest-get-devices")) },
        Case("ssh-unknown-user") { s in
            let user = #"{"username":"qga-no-such-user-8"}"#
            s.call("get", request("guest-ssh-get-authorized-keys", user))
            s.call("add", request("guest-ssh-add-authorized-keys", #"{"username":"qga-no-such-user-8","keys":["ssh-ed25519 AAAA x"]}"#))
            s.call("remove", request("guest-ssh-remove-authorized-keys", #"{"username":"qga-no-such-user-8","keys":["ssh-ed25519 AAAA x"]}"#))
            s.call("missing-username", request("guest-ssh-get-authorized-keys", "{}"))
        },
    ]

    /// Whether the agent's CPU times are in milliseconds: their total against /proc/stat
    /// read just after, converted with the kernel's USER_HZ.
    static func cpuTimeUnit(_ list: JSONValue?) -> String {
        let fields = ["user", "nice", "system", "idle"]
        var agentTotal = 0.0
        for entry in list?.array ?? [] {
            for field in fields { agentTotal += entry[field]?.number?.double ?? 0 }
        }
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return "no /proc/stat" }
        let ticks = line.split(separator: " ").dropFirst().prefix(4).compactMap { Double($0) }.reduce(0, +)
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticks > 0, hz > 0 else { return "no /proc/stat" }
        let ratio = agentTotal / (ticks * 1000 / hz)
        return (0.8...1.25).contains(ratio) ? "milliseconds" : "\(Int((ratio * 1000).rounded()))/1000 of milliseconds"
    }

    static let fileCases: [Case] = [
        Case("file-roundtrip") { s in
            let opened = s.call("open", request("guest-file-open", #"{"path":"$DIR/f.txt","mode":"w+"}"#))
            s.variables["$H"] = opened?["return"]?.number?.text ?? "0"
            s.call("write", request("guest-file-write", #"{"handle":$H,"buf-b64":"aGVsbG8gd29ybGQ="}"#), values: exact)
            s.call("write-count", request("guest-file-write", #"{"handle":$H,"buf-b64":"aGVsbG8=","count":2}"#), values: exact)
            s.call("flush", request("guest-file-flush", #"{"handle":$H}"#), values: exact)
            s.call("seek-set", request("guest-file-seek", #"{"handle":$H,"offset":6,"whence":"set"}"#), values: exact)
            s.call("read", request("guest-file-read", #"{"handle":$H,"count":100}"#), values: exact)
            s.call("read-at-eof", request("guest-file-read", #"{"handle":$H}"#), values: exact)
            s.call("seek-cur", request("guest-file-seek", #"{"handle":$H,"offset":-3,"whence":"cur"}"#), values: exact)
            s.call("seek-end", request("guest-file-seek", #"{"handle":$H,"offset":0,"whence":"end"}"#), values: exact)
            s.call("seek-int-whence", request("guest-file-seek", #"{"handle":$H,"offset":0,"whence":0}"#), values: exact)
            s.call("seek-negative", request("guest-file-seek", #"{"handle":$H,"offset":-100,"whence":"set"}"#))
            s.call("seek-bad-whence", request("guest-file-seek", #"{"handle":$H,"offset":0,"whence":"middle"}"#))
            s.call("seek-int-whence-bad", request("guest-file-seek", #"{"handle":$H,"offset":0,"whence":7}"#))
            s.call("read-max", request("guest-file-read", #"{"handle":$H,"count":50331648}"#), values: exact)
            s.call("read-zero", request("guest-file-read", #"{"handle":$H,"count":0}"#), values: exact)
            s.call("read-negative", request("guest-file-read", #"{"handle":$H,"count":-1}"#))
            s.call("read-huge", request("guest-file-read", #"{"handle":$H,"count":50331649}"#))
            s.call("read-float", request("guest-file-read", #"{"handle":$H,"count":1.5}"#))
            s.call("write-bad-base64", request("guest-file-write", #"{"handle":$H,"buf-b64":"!!!!"}"#))
            s.call("write-count-too-big", request("guest-file-write", #"{"handle":$H,"buf-b64":"aGk=","count":3}"#))
            s.call("write-count-negative", request("guest-file-write", #"{"handle":$H,"buf-b64":"aGk=","count":-1}"#))
            s.call("write-empty", request("guest-file-write", #"{"handle":$H,"buf-b64":""}"#), values: exact)
            s.call("close", request("guest-file-close", #"{"handle":$H}"#), values: exact)
            s.call("read-closed", request("guest-file-read", #"{"handle":$H}"#))
            s.call("close-closed", request("guest-file-close", #"{"handle":$H}"#))
        },
        Case("file-errors") { s in
            s.call("open-missing", request("guest-file-open", #"{"path":"$DIR/missing"}"#))
            s.call("open-missing-dir", request("guest-file-open", #"{"path":"$DIR/no/such/dir/f","mode":"w"}"#))
            s.call("open-bad-mode", request("guest-file-open", #"{"path":"$DIR/f","mode":"z"}"#))
            s.call("open-mode-with-junk", request("guest-file-open", #"{"path":"$DIR/f","mode":"rw"}"#))
            s.call("open-no-path", request("guest-file-open", "{}"))
            s.call("open-path-not-string", request("guest-file-open", #"{"path":5}"#))
            s.call("open-empty-path", request("guest-file-open", #"{"path":""}"#))
            s.call("read-bad-handle", request("guest-file-read", #"{"handle":999999}"#))
            s.call("write-bad-handle", request("guest-file-write", #"{"handle":999999,"buf-b64":"aGk="}"#))
            s.call("seek-bad-handle", request("guest-file-seek", #"{"handle":999999,"offset":0,"whence":"set"}"#))
            s.call("flush-bad-handle", request("guest-file-flush", #"{"handle":999999}"#))
            s.call("close-bad-handle", request("guest-file-close", #"{"handle":999999}"#))
            s.call("handle-negative", request("guest-file-close", #"{"handle":-1}"#))
            s.call("handle-out-of-range", request("guest-file-close", #"{"handle":9223372036854775808}"#))
            s.call("handle-string", request("guest-file-close", #"{"handle":"1000"}"#))
        },
        Case("file-modes") { s in
            _ = FileManager.default.createFile(atPath: s.directory + "/in.txt", contents: Data("line one\nline two\n".utf8))
            let read = s.call("open-r", request("guest-file-open", #"{"path":"$DIR/in.txt","mode":"r"}"#))
            s.variables["$R"] = read?["return"]?.number?.text ?? "0"
            s.call("read-r", request("guest-file-read", #"{"handle":$R,"count":4}"#), values: exact)
            s.call("write-r", request("guest-file-write", #"{"handle":$R,"buf-b64":"aGk="}"#))
            let append = s.call("open-a", request("guest-file-open", #"{"path":"$DIR/in.txt","mode":"a"}"#))
            s.variables["$A"] = append?["return"]?.number?.text ?? "0"
            s.call("write-a", request("guest-file-write", #"{"handle":$A,"buf-b64":"aGk="}"#), values: exact)
            s.call("read-a", request("guest-file-read", #"{"handle":$A}"#))
            let dir = s.call("open-dir", request("guest-file-open", #"{"path":"$DIR","mode":"r"}"#))
            s.variables["$D"] = dir?["return"]?.number?.text ?? "0"
            s.call("read-dir", request("guest-file-read", #"{"handle":$D}"#))
            s.call("open-dir-w", request("guest-file-open", #"{"path":"$DIR","mode":"w"}"#))
            s.call("open-excl-existing", request("guest-file-open", #"{"path":"$DIR/in.txt","mode":"wx"}"#))
            s.call("open-rb+", request("guest-file-open", #"{"path":"$DIR/in.txt","mode":"rb+"}"#), values: returned { _ in "a handle" })
        },
    ]

    static let execCases: [Case] = [
        Case("exec-capture") { s in
            let started = s.call("start", request("guest-exec", #"{"path":"/bin/sh","arg":["-c","echo out; echo err >&2; exit 3"],"capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("status", values: exact)
            s.call("collected", request("guest-exec-status", #"{"pid":$PID}"#))
        },
        Case("exec-input") { s in
            let started = s.call("start", request("guest-exec", #"{"path":"/bin/cat","input-data":"aW5wdXQ=","capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("status", values: exact)
        },
        Case("exec-no-capture") { s in
            let started = s.call("start", request("guest-exec", #"{"path":"/bin/sh","arg":["-c","echo hidden; exit 0"]}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("status", values: exact)
        },
        Case("exec-signal") { s in
            let started = s.call("start", request("guest-exec", #"{"path":"/bin/sh","arg":["-c","kill -9 $$"],"capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("status", values: exact)
        },
        Case("exec-env") { s in
            let started = s.call("start", request("guest-exec", #"{"path":"/bin/sh","arg":["-c","echo $QGA_DIFF"],"env":["QGA_DIFF=yes"],"capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("status", values: exact)
        },
        Case("exec-no-shebang") { s in
            let script = s.directory + "/script"
            // O_CLOEXEC: a write descriptor inherited by a process that another test spawns
            // meanwhile would make the exec fail with ETXTBSY.
            let fd = open(script, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o700)
            if fd >= 0 {
                _ = Array("exit 7\n".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            let started = s.call("start", request("guest-exec", #"{"path":"$DIR/script","capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("status", values: exact)
        },
        Case("exec-running") { s in
            let started = s.call("start", request("guest-exec", #"{"path":"/bin/sleep","arg":["1"],"capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.call("running", request("guest-exec-status", #"{"pid":$PID}"#), values: exact)
            s.execStatus("status", values: exact)
        },
        Case("exec-no-shebang-args") { s in
            // $0 is the script's path (so /bin/sh ran it by name), then the arguments. A name
            // no system has in its PATH: an agent that searched its own PATH must not find one.
            let fd = open(s.directory + "/qga-diff-script", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o700)
            if fd >= 0 {
                _ = Array("case $0 in */qga-diff-script) echo \"sh: $#: $*\";; esac; exit 5\n".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            let started = s.call("start", request("guest-exec", #"{"path":"$DIR/qga-diff-script","arg":["a","b c"],"capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("status", values: exact)
            let found = s.call("env-path", request("guest-exec", #"{"path":"qga-diff-script","arg":["x"],"env":["PATH=/nonexistent:$DIR"],"capture-output":true}"#))
            s.variables["$PID"] = found?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("env-path-status", values: exact)
        },
        Case("exec-path") { s in
            // A name without a slash is looked up in the PATH of `env` if it sets one, else in the agent's.
            let started = s.call("agent-path", request("guest-exec", #"{"path":"sh","arg":["-c","exit 4"],"env":[]}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("agent-path-status", values: exact)
            s.call("env-path-missing", request("guest-exec", #"{"path":"sh","arg":["-c","exit 4"],"env":["PATH=/nonexistent"]}"#))
            s.call("not-executable", request("guest-exec", #"{"path":"$DIR/agent.log"}"#))
        },
        Case("exec-output") { s in
            let started = s.call("start", request("guest-exec", #"{"path":"/bin/sh","arg":["-c","echo err >&2"],"capture-output":true}"#))
            s.variables["$PID"] = started?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("stderr-only", values: exact)
            let big = s.call("start-17M", request("guest-exec", #"{"path":"/bin/sh","arg":["-c","head -c 17000000 /dev/zero"],"capture-output":true}"#))
            s.variables["$PID"] = big?["return"]?["pid"]?.number?.text ?? "0"
            s.execStatus("truncated", values: returned { value in
                "exitcode \(text(value["exitcode"])) out-truncated \(text(value["out-truncated"])) out-data \(value["out-data"]?.string?.count ?? -1) chars"
            })
        },
        Case("exec-errors") { s in
            s.call("missing-binary", request("guest-exec", #"{"path":"/nonexistent/program"}"#))
            s.call("no-path", request("guest-exec", "{}"))
            s.call("bad-input-base64", request("guest-exec", #"{"path":"/bin/true","input-data":"!!!"}"#))
            s.call("arg-not-array", request("guest-exec", #"{"path":"/bin/true","arg":"x"}"#))
            s.call("arg-not-strings", request("guest-exec", #"{"path":"/bin/true","arg":[1]}"#))
            s.call("arg-second-not-string", request("guest-exec", #"{"path":"/bin/true","arg":["a",[]]}"#))
            s.call("env-null-element", request("guest-exec", #"{"path":"/bin/true","env":[null]}"#))
            s.call("arg-null", request("guest-exec", #"{"path":"/bin/true","arg":null}"#))
            s.call("capture-string", request("guest-exec", #"{"path":"/bin/true","capture-output":"merged"}"#))
            s.call("status-unknown-pid", request("guest-exec-status", #"{"pid":999999}"#))
            s.call("status-no-pid", request("guest-exec-status", "{}"))
        },
    ]

    /// Raw bytes as a step, shown escaped in reports.
    static func raw(_ s: DifferentialSession, _ label: String, _ bytes: [UInt8], values: Values? = nil) {
        // Bytes over 0x7F are written as \xNN: the raw steps use them only as single bytes.
        let shown = bytes.prefix(120).map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
        s.step(label, bytes: bytes, shown: bytes.count > 120 ? shown + "... (\(bytes.count) bytes)" : shown, values: values)
    }

    static let protocolCases: [Case] = [
        Case("unknown-command") { s in
            s.call("plain", request("guest-no-such-command"))
            s.call("with-id", #"{"execute":"guest-no-such-command","id":"abc"}"#)
            s.call("empty-name", request(""))
        },
        Case("arguments") { s in
            s.call("unexpected", request("guest-ping", #"{"foo":1}"#))
            s.call("missing", request("guest-sync", "{}"))
            s.call("mistyped", request("guest-sync", #"{"id":"x"}"#))
            s.call("float-for-int", request("guest-sync", #"{"id":1.5}"#))
            s.call("bool-for-int", request("guest-sync", #"{"id":true}"#))
            s.call("null-for-int", request("guest-sync", #"{"id":null}"#))
            s.call("not-an-object", request("guest-ping", "[]"))
            s.call("null-arguments", request("guest-ping", "null"))
            s.call("empty-arguments", request("guest-ping", "{}"), values: exact)
            s.call("two-unexpected", request("guest-ping", #"{"b":1,"a":2}"#))
            s.call("missing-and-unexpected", request("guest-sync", #"{"x":1}"#))
        },
        Case("arguments-order") { s in
            // QAPI checks every declared member (missing, type) before anything undeclared,
            // and all of it before the command looks at a value.
            s.call("mistyped-element-first", request("guest-exec", #"{"x":1,"path":"/bin/true","arg":[1]}"#))
            s.call("unexpected-before-base64", request("guest-exec", #"{"path":"/bin/true","input-data":"!!!","x":1}"#))
            s.call("unexpected-before-handle", request("guest-file-read", #"{"handle":999999,"x":1}"#))
            s.call("mistyped-before-handle", request("guest-file-read", #"{"handle":999999,"count":"x"}"#))
            s.call("whence-bool", request("guest-file-seek", #"{"handle":999999,"offset":0,"whence":true}"#))
            s.call("whence-float", request("guest-file-seek", #"{"handle":999999,"offset":0,"whence":1.5}"#))
            s.call("whence-name", request("guest-file-seek", #"{"handle":999999,"offset":0,"whence":"middle","x":1}"#))
            s.call("missing-before-base64", request("guest-set-user-password", #"{"username":"qga-no-such-user-8","password":"!!!"}"#))
            s.call("keys-element", request("guest-ssh-add-authorized-keys", #"{"username":"qga-no-such-user-8","keys":["k",5]}"#))
        },
        Case("arguments-nested") { s in
            // Every request fails the argument checks; online is true throughout (see the note above).
            s.call("not-array", request("guest-set-vcpus", #"{"vcpus":"x"}"#))
            s.call("element-not-object", request("guest-set-vcpus", #"{"vcpus":[5]}"#))
            s.call("member-mistyped", request("guest-set-vcpus", #"{"vcpus":[{"logical-id":"x","online":true}]}"#))
            s.call("member-missing", request("guest-set-vcpus", #"{"vcpus":[{"logical-id":0}]}"#))
            s.call("member-unexpected", request("guest-set-vcpus", #"{"q":1,"vcpus":[{"logical-id":0,"online":true,"zz":1}]}"#))
            s.call("optional-mistyped", request("guest-set-vcpus", #"{"vcpus":[{"logical-id":0,"online":true,"can-offline":"x"}]}"#))
            s.call("second-element", request("guest-set-vcpus", #"{"vcpus":[{"logical-id":0,"online":true},{"online":true}]}"#))
            s.call("uint64", request("guest-set-memory-blocks", #"{"mem-blks":[{"phys-index":"x","online":true}]}"#))
        },
        Case("envelope") { s in
            s.call("execute-number", #"{"execute":5}"#)
            s.call("execute-null", #"{"execute":null}"#)
            s.call("no-execute", #"{"arguments":{}}"#)
            s.call("empty-object", "{}")
            s.call("unexpected-member", #"{"execute":"guest-ping","bogus":1}"#)
            s.call("exec-oob", #"{"exec-oob":"guest-ping"}"#)
            s.call("duplicate-key", #"{"execute":"guest-info","execute":"guest-ping"}"#, values: exact)
            s.call("escaped-name", #"{"execute":"guest-\u0070ing"}"#, values: exact)
        },
        Case("non-object") { s in
            s.call("array", "[1, 2]")
            s.call("string", #""text""#)
            s.call("number", "42")
            s.call("true", "true")
            s.call("null", "null")
        },
        Case("malformed") { s in
            s.call("missing-value", #"{"execute":}"#)
            s.call("missing-colon", #"{"execute" "guest-ping"}"#)
            s.call("trailing-comma", #"{"execute":"guest-ping",}"#)
            s.call("stray-close", "}")
            s.call("garbage-then-request", #"garbage {"execute":"guest-ping","id":"after"}"#)
            s.call("bad-escape", #"{"execute":"guest-\qing"}"#)
            s.call("bad-number", #"{"execute":"guest-sync","arguments":{"id":01}}"#)
        },
        Case("id-echo") { s in
            s.call("object", #"{"execute":"guest-ping","id":{"a":[1,"x"]}}"#) { replies in ["id": text(replies.first?.value?["id"])] }
            s.call("string", #"{"execute":"guest-ping","id":"s"}"#) { replies in ["id": text(replies.first?.value?["id"])] }
            s.call("null", #"{"execute":"guest-ping","id":null}"#) { replies in ["id": text(replies.first?.value?["id"])] }
            s.call("on-error", #"{"execute":"guest-sync","id":7}"#) { replies in ["id": text(replies.first?.value?["id"])] }
            s.call("before-execute", #"{"id":[true],"execute":"guest-ping"}"#) { replies in ["id": text(replies.first?.value?["id"])] }
            s.call("two-in-one-write", #"{"execute":"guest-ping","id":1}{"execute":"guest-ping","id":2}"#) { replies in
                ["ids": replies.map { text($0.value?["id"]) }.joined(separator: ",")]
            }
        },
        Case("sync") { s in
            s.call("sync", request("guest-sync", #"{"id":9007199254740991}"#), values: exact)
            s.call("negative", request("guest-sync", #"{"id":-5}"#), values: exact)
            s.call("int64-max", request("guest-sync", #"{"id":9223372036854775807}"#), values: exact)
            s.call("over-int64", request("guest-sync", #"{"id":9223372036854775808}"#))
            s.call("delimited", request("guest-sync-delimited", #"{"id":123}"#), values: exact)
            s.call("after-delimited", request("guest-ping"), values: exact)
        },
        Case("0xff") { s in
            raw(s, "alone", [0xFF])
            raw(s, "mid-request", Array(#"{"execute":"gu"#.utf8) + [0xFF] + Array(#"{"execute":"guest-ping"}"#.utf8))
            raw(s, "sync-delimited", [0xFF] + Array(#"{"execute":"guest-sync-delimited","arguments":{"id":5}}"#.utf8), values: { replies in
                ["sync": replies.last.map { "\($0.delimited) \(text($0.value))" } ?? "-"]
            })
        },
        Case("0xfe") { s in
            raw(s, "mid-request", Array(#"{"execute":"gu"#.utf8) + [0xFE] + Array(#"{"execute":"guest-ping"}"#.utf8))
        },
        Case("single-quotes") { s in
            s.call("ping", "{'execute':'guest-ping'}", values: exact)
        },
        Case("deep-nesting") { s in
            raw(s, "1100", Array(String(repeating: "[", count: 1100).utf8) + Array(String(repeating: "]", count: 1100).utf8))
            s.call("recovered", request("guest-ping"), values: exact)
        },
        Case("token-limit") { s in
            // 11 tokens before the array, then one over QEMU's 2 Mi tokens per message.
            let zeros = (2 << 20) - 11
            var bytes = Array(#"{"execute":"guest-ping","arguments":{"a":["#.utf8)
            bytes.reserveCapacity(bytes.count + 2 * zeros)
            for _ in 0..<(zeros / 2) { bytes += [UInt8(ascii: "0"), UInt8(ascii: ",")] }
            bytes += Array("0]}}".utf8)
            raw(s, "2M", bytes)
            s.call("recovered", request("guest-ping"), values: exact)
        },
        Case("large-request") { s in
            let big = String(repeating: "a", count: 1 << 20)
            s.call("1MiB-argument", request("guest-ping", #"{"x":"\#(big)"}"#))
            s.call("1MiB-id", #"{"execute":"guest-ping","id":"\#(big)"}"#) { replies in ["id-length": "\(replies.first?.value?["id"]?.string?.count ?? -1)"] }
        },
        Case("strings") { s in
            s.call("control-char", "{\"execute\":\"guest-ping\u{01}\"}")
            s.call("raw-newline", "{\"execute\":\"guest-\nping\"}")
            raw(s, "invalid-utf8", Array(#"{"execute":"guest-ping","id":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))
            s.call("unicode-id", #"{"execute":"guest-ping","id":"\u00e9\ud83d\ude00"}"#) { replies in ["id": text(replies.first?.value?["id"])] }
            s.call("lone-surrogate", #"{"execute":"guest-ping","id":"\ud800"}"#)
        },
    ]

    // MARK: - Running and comparing

    struct Difference: CustomStringConvertible {
        var request: String
        var aspect: String
        var detail: String
        var description: String { "\(request) [\(aspect)]: \(detail)" }
    }

    @Test(arguments: cases) func sameRepliesAsQemuGA(_ scenario: Case) throws {
        let reference = try AgentProcess(.qemuGA)
        let candidate = try AgentProcess(.qgad)
        let expected = try DifferentialSession(reference)
        let actual = try DifferentialSession(candidate)
        scenario.run(expected)
        scenario.run(actual)
        let differences = Self.compare(scenario.name, expected, actual)
        let allowed = Self.knownDifferences + Self.pendingFixes
        for difference in differences where !allowed.contains(where: { $0.request == difference.request && $0.aspects.contains(difference.aspect) }) {
            Issue.record("qgad differs from qemu-ga: \(difference)")
        }
        for entry in allowed where entry.request.hasPrefix(scenario.name + "/") {
            for aspect in entry.aspects where !differences.contains(where: { $0.request == entry.request && $0.aspect == aspect }) {
                Issue.record("listed difference no longer seen, remove \(aspect) from: \(entry)")
            }
        }
        if ProcessInfo.processInfo.environment["QGA_DIFF_VERBOSE"] != nil {
            for difference in differences { print("DIFF \(difference)") }
        }
    }

    /// Commands disabled with -b: the same error (no reason given in 7.2) and guest-info entry.
    @Test func blockedCommandAsQemuGA() throws {
        var replies: [[String]] = []
        for kind in AgentKind.allCases {
            let agent = try AgentProcess(kind, ["-b", "guest-get-time"])
            let session = try DifferentialSession(agent)
            session.call("call", Self.request("guest-get-time"))
            session.call("info", Self.request("guest-info"))
            withExtendedLifetime(agent) {}
            replies.append(session.steps.map { step in
                let value = step.replies.first?.value
                if let error = value?["error"] { return Self.text(error) }
                let entry = value?["return"]?["supported_commands"]?.array?.first { $0["name"]?.string == "guest-get-time" }
                return Self.text(entry)
            })
        }
        #expect(replies.first == replies.last, "qemu-ga: \(replies.first ?? []), qgad: \(replies.last ?? [])")
    }

    @Test func everyListedDifferenceNamesACase() {
        let names = Set(Self.cases.map(\.name))
        for entry in Self.knownDifferences + Self.pendingFixes {
            let name = entry.request.split(separator: "/").dropLast().joined(separator: "/")
            #expect(names.contains(name), "no case named \(name): \(entry)")
        }
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count, "case names repeat")
        for entry in Self.pendingFixes {
            #expect(entry.reason.hasPrefix("item ") || entry.reason.hasPrefix("new"), "say which item fixes it: \(entry)")
        }
    }

    static func abbreviated(_ reply: RecordedReply?) -> String {
        guard let reply else { return "(none)" }
        let body = reply.value.map { JSONPrinter(layout: .compact).string($0) } ?? "(not JSON)"
        return (reply.delimited ? "\\xFF" : "") + (body.count > 200 ? body.prefix(200) + "..." : body)
    }

    static func outcome(_ value: JSONValue?) -> String {
        guard let object = value?.object else { return "not JSON" }
        if object["return"] != nil { return "return" }
        if object["error"] != nil { return "error" }
        return "other: " + object.keys.joined(separator: ",")
    }

    /// qemu-ga's error reply to a 0xFF byte (the lexer's "stray" token ends in U+FFFD).
    static func isStray0xFFError(_ reply: RecordedReply) -> Bool {
        guard let desc = reply.value?["error"]?["desc"]?.string else { return false }
        return desc.hasPrefix("JSON parse error, stray '") && desc.hasSuffix("\u{FFFD}'")
    }

    /// Environment noise taken out of both agents' replies before comparing: qemu-ga takes a
    /// disk's serial number from udev's database, so on a host without one (a container, as
    /// here) it has none, while qgad reads sysfs. Where udev runs both report it.
    static let hostHasUdevDatabase = FileManager.default.fileExists(atPath: "/run/udev/data")

    static func withoutEnvironmentNoise(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements): return .array(elements.map(withoutEnvironmentNoise))
        case .object(let object):
            var members = object.members.map { JSONObject.Member(key: $0.key, value: withoutEnvironmentNoise($0.value)) }
            if !hostHasUdevDatabase, object["bus-type"] != nil { members.removeAll { $0.key == "serial" } }
            return .object(JSONObject(members))
        default: return value
        }
    }

    /// Every aspect in which the two sessions differ.
    static func compare(_ name: String, _ q: DifferentialSession, _ g: DifferentialSession) -> [Difference] {
        var out: [Difference] = []
        guard q.steps.map(\.label) == g.steps.map(\.label) else {
            return [Difference(request: name + "/*", aspect: "steps", detail: "qemu-ga ran \(q.steps.map(\.label)), qgad \(g.steps.map(\.label))")]
        }
        for (qStep, gStep) in zip(q.steps, g.steps) {
            var a = qStep
            var b = gStep
            let request = name + "/" + a.label
            for i in a.replies.indices { a.replies[i].value = a.replies[i].value.map(withoutEnvironmentNoise) }
            for i in b.replies.indices { b.replies[i].value = b.replies[i].value.map(withoutEnvironmentNoise) }
            // qgad deliberately sends no error for a 0xFF: drop qemu-ga's before lining replies up.
            let strays = a.replies.filter(isStray0xFFError)
            if strays.count > b.replies.filter(isStray0xFFError).count {
                a.replies.removeAll(where: isStray0xFFError)
                out.append(Difference(request: request, aspect: "stray 0xFF error",
                                      detail: "\(a.request)\n    qemu-ga: \(strays.map { abbreviated($0) })\n    qgad:    (none)"))
            }
            func differ(_ aspect: String, _ x: String, _ y: String, _ index: Int? = nil) {
                guard x != y else { return }
                let replies = index.map { "\n    qemu-ga: \(abbreviated(a.replies[$0]))\n    qgad:    \(abbreviated(b.replies[$0]))" }
                    ?? "\n    qemu-ga: \(a.replies.map { abbreviated($0) })\n    qgad:    \(b.replies.map { abbreviated($0) })"
                let (ex, ey) = (DifferentialSession.escaped(x), DifferentialSession.escaped(y))
                out.append(Difference(request: request, aspect: aspect, detail: "\(a.request)\n    qemu-ga: \(ex)\n    qgad:    \(ey)" + replies))
            }
            differ("replies", "\(a.replies.count) replies\(a.markerSeen ? "" : ", then silence")", "\(b.replies.count) replies\(b.markerSeen ? "" : ", then silence")")
            for i in 0..<min(a.replies.count, b.replies.count) {
                let x = a.replies[i]
                let y = b.replies[i]
                differ("outcome", outcome(x.value), outcome(y.value), i)
                differ("delimiter", "\(x.delimited)", "\(y.delimited)", i)
                differ("id", text(x.value?["id"]), text(y.value?["id"]), i)
                if outcome(x.value) == outcome(y.value) {
                    func members(_ v: JSONValue?) -> String { (v?.object?.keys ?? []).sorted().joined(separator: ",") }
                    differ("reply members", members(x.value), members(y.value), i)
                }
                if let e = x.value?["error"], let f = y.value?["error"] {
                    differ("error class", text(e["class"]), text(f["class"]), i)
                    differ("error text", q.generalise(e["desc"]?.string ?? "-"), g.generalise(f["desc"]?.string ?? "-"), i)
                    differ("error shape", JSONShape(e).description, JSONShape(f).description, i)
                }
                if let r = x.value?["return"], let t = y.value?["return"] {
                    let shapes = JSONShape(r).differences(from: JSONShape(t), names: ("qemu-ga", "qgad"))
                    if !shapes.isEmpty { differ("shape", shapes.joined(separator: "; "), "(see left)", i) }
                }
            }
            for key in Set(a.values.keys).union(b.values.keys).sorted() {
                differ("value:" + key, a.values[key] ?? "-", b.values[key] ?? "-")
            }
        }
        return out
    }
}
