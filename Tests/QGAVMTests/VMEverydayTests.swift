import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// The two ways to a test-bed guest's agent: libvirt (its `org.qemu.guest_agent.0`
/// channel) and the direct channel (`org.qemu.guest_agent.1`, the socket the domain XML
/// names, reached without libvirt in the path).
enum Route: String, CaseIterable, CustomStringConvertible, Sendable {
    case libvirt
    case direct
    var description: String { rawValue }
    /// qga's arguments before its own: which channel of the test bed's domain.
    var channel: [String] { self == .direct ? ["--channel", "org.qemu.guest_agent.1"] : [] }
}

/// The everyday commands (typed queries, `run`, `cp`, `cat`) end to end on the test bed,
/// through libvirt and the direct channel, against whichever agent the guest runs (qemu-ga,
/// or qgad when scripts/test boots the test bed with it). Kept short: the guest is TCG.
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMEverydayTests {
    let bed = TestBed.current!

    /// `qga SUBCOMMAND -c URI [--channel ...] ARGUMENTS`; `target` false leaves the domain
    /// out (cp and cat name it in their `TARGET:/PATH`).
    func qga(
        _ subcommand: String, _ route: Route, _ arguments: [String], target: Bool = true, stdin: [UInt8]? = nil,
        timeout: Double = 120
    ) throws -> ProcessResult {
        let head = [subcommand, "-c", bed.uri] + route.channel + (target ? [bed.domain] : [])
        return try run(try Binaries.path("qga"), head + arguments, stdin: stdin, timeout: timeout)
    }

    /// A guest command's stdout through the direct channel, checked to have succeeded.
    func guest(_ command: String) throws -> String {
        let result = try qga("run", .direct, ["--shell", "--", command])
        #expect(result.status == 0, "\(command): \(result)")
        return result.stdoutText
    }

    /// A file's sha256 on the host, as sha256sum prints it.
    func hostSHA256(_ path: String) throws -> String {
        let result = try run("/usr/bin/sha256sum", [path])
        return String(result.stdoutText.prefix(64))
    }

    // MARK: Queries

    /// Every query's human view and `--json`, checked against what the guest says of itself.
    @Test(arguments: Route.allCases)
    func queries(_ route: Route) throws {
        func human(_ query: String) throws -> [String] {
            let result = try qga(query, route, [])
            #expect(result.status == 0, "\(query): \(result)")
            #expect(result.stderr.isEmpty, "\(query): \(result)")
            return result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        func json(_ query: String) throws -> JSONValue {
            let result = try qga(query, route, ["--json", "--compact"])
            #expect(result.status == 0, "\(query): \(result)")
            return try JSONParser.parse(result.stdout)
        }

        #expect(try human("ping") == ["ok"])
        #expect(try json("ping") == .object([:]))

        let info = try json("info")
        let version = try #require(info["version"]?.string)
        let commands = info["supported_commands"]?.array?.compactMap { $0["name"]?.string } ?? []
        #expect(commands.contains("guest-exec"))
        let infoLines = try human("info")
        #expect(infoLines.prefix(3) == ["version: \(version)", "", "COMMAND                           ENABLED  REPLIES"])
        #expect(infoLines.contains("guest-ping                        yes      yes"))

        // The initramfs's /etc/os-release and the guest's kernel.
        let kernel = try guest("uname -r").trimmingCharacters(in: .newlines)
        let os = try json("osinfo")
        #expect(os["id"]?.string == "qga-testbed", "\(os)")
        #expect(os["kernel-release"]?.string == kernel, "\(os)")
        let osLines = try human("osinfo")
        #expect(osLines.contains { $0.hasPrefix("kernel-release: ") && $0.hasSuffix(" " + kernel) }, "\(osLines)")

        let hostname = try guest("hostname").trimmingCharacters(in: .newlines)
        #expect(try human("hostname") == [hostname])
        #expect(try json("hostname")["host-name"]?.string == hostname)

        // Nobody logs in to the test bed.
        #expect(try human("users") == ["USER  LOGIN (UTC)"])
        #expect(try json("users") == .array([]))

        // No /etc/localtime: UTC.
        let zone = try json("timezone")
        #expect(zone["offset"] == 0, "\(zone)")
        #expect(try human("timezone").first?.hasSuffix("(UTC+00:00)") == true)

        // One vCPU (the domain's <vcpu>1</vcpu>).
        #expect(try human("vcpus") == ["CPU  ONLINE  CAN-OFFLINE", "  0  yes     no"])
        #expect(try json("vcpus").array?.count == 1)

        // The data disk: /dev/vda, ext4 on /mnt/data.
        let fs = try json("fsinfo")
        let data = try #require(fs.array?.first { $0["mountpoint"]?.string == "/mnt/data" }, "\(fs)")
        #expect(data["type"]?.string == "ext4")
        #expect(data["disk"]?.array?.first?["dev"]?.string == "/dev/vda", "\(data)")
        let fsLines = try human("fsinfo")
        #expect(fsLines.first?.split(separator: " ") == ["MOUNT", "TYPE", "SIZE", "USED", "USE%", "DISKS"])
        let dataRow = try #require(fsLines.first { $0.hasPrefix("/mnt/data ") }, "\(fsLines)").split(separator: " ").map(String.init)
        #expect(dataRow.count == 6 && dataRow[1] == "ext4" && dataRow[4].hasSuffix("%") && dataRow[5] == "/dev/vda", "\(dataRow)")

        let disks = try json("disks")
        #expect(disks.array?.contains { $0["name"]?.string == "/dev/vda" } == true, "\(disks)")
        #expect(try human("disks").contains { $0.hasPrefix("/dev/vda ") })

        let interfaces = try json("ifaddr")
        #expect(interfaces.array?.first { $0["name"]?.string == "lo" } != nil, "\(interfaces)")
        #expect(try human("ifaddr").contains { $0.hasPrefix("lo ") && $0.contains(" 127.0.0.1/8") })

        // guest-get-load came with QEMU 10.0: qgad has it, Debian's qemu-ga 7.2 does not.
        let load = try qga("load", route, [])
        if commands.contains("guest-get-load") {
            #expect(load.status == 0, "\(load)")
            #expect(load.stdoutText.hasPrefix("load average: "), "\(load)")
            #expect(try json("load")["load1m"]?.number != nil)
        } else {
            #expect(load.status == 1, "\(load)")
            #expect(load.stderr.hasSuffix(": the agent has no guest-get-load (added in QEMU 10.0); it is version \(version)\n"), "\(load)")
        }
    }

    // MARK: run

    @Test(arguments: Route.allCases)
    func runPassesOnOutputAndStatus(_ route: Route) throws {
        let result = try qga("run", route, ["--shell", "--", "printf 'out\\n'; printf 'err\\n' >&2; exit 3"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stdoutText == "out\n")
        #expect(result.stderr == "err\n")

        let success = try qga("run", route, ["--", "/bin/true"])
        #expect(success.status == 0 && success.stdout.isEmpty && success.stderr.isEmpty, "\(success)")

        let signal = try qga("run", route, ["--shell", "--", "kill -TERM $$"])
        #expect(signal.status == 128 + SIGTERM, "\(signal)")

        // Every byte value in, the same bytes out.
        let bytes = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) } + (0...255).map { UInt8($0) }
        let cat = try qga("run", route, ["--", "/bin/cat"], stdin: bytes)
        #expect(cat.status == 0, "\(cat.status) \(cat.stderr)")
        #expect(cat.stdout == bytes)
    }

    @Test(arguments: Route.allCases)
    func runTimeoutKillsTheCommand(_ route: Route) throws {
        let result = try qga("run", route, ["--timeout", "1", "--kill", "--", "/bin/sleep", "60"])
        #expect(result.status == 124, "\(result)")
        let pid = result.stderr.split(separator: "\n").first { $0.contains("it is guest process") }?.split(separator: " ").last
        let killed = try #require(pid.flatMap { Int(String($0)) }, "\(result)")
        #expect(result.stderr.contains("qga: killed guest process \(killed) (SIGKILL)"), "\(result)")
        // Gone from the guest (the agent reaped it when qga read its status).
        #expect(try guest("kill -0 \(killed) 2>/dev/null && echo alive || echo gone") == "gone\n")
    }

    /// Stdin that would make a guest-exec request larger than libvirt delivers intact is
    /// refused before anything runs; the direct channel takes it.
    @Test func runStdinOverLibvirtsRequestLimit() throws {
        let input = [UInt8](repeating: 0x61, count: 128 << 10)
        let marker = "/tmp/qga-stdin-ran"
        let refused = try qga("run", .libvirt, ["--shell", "--", "touch \(marker); wc -c"], stdin: input)
        #expect(refused.status == 255, "\(refused)")
        #expect(refused.stderr.contains("stdin holds more than \(96 << 10) bytes"), "\(refused)")
        #expect(try guest("test -e \(marker) && echo ran || echo not run") == "not run\n")
        let direct = try qga("run", .direct, ["--", "/usr/bin/wc", "-c"], stdin: input)
        #expect(direct.status == 0, "\(direct)")
        #expect(direct.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(128 << 10)")
    }

    /// Both agents keep 16 MiB of each stream; on the direct channel qga passes that on and
    /// says the rest was cut (about 10 s under TCG).
    @Test func runOutputOverTheAgentsCap() throws {
        let result = try qga("run", .direct, ["--shell", "--", "head -c 17000000 /dev/zero"])
        #expect(result.status == 0, "\(result.status) \(result.stderr)")
        #expect(result.stdout.count == 16 << 20)
        #expect(result.stderr == "qga: the agent cut the command's stdout short (it keeps at most 16 MiB)\n")
    }

    /// Through libvirt one status reply must stay within libvirt's 4 MiB RPC string (past
    /// it the reply is lost; at 10 MiB libvirt gives up on the domain's agent until the domain
    /// restarts), so there the output goes through guest files: 12 MB of stdout and 4 MB of
    /// stderr arrive intact with the command's status, nothing is left in the guest's /tmp,
    /// and libvirt's agent answers afterwards. Small output comes in the status reply as
    /// before (runPassesOnOutputAndStatus).
    @Test func runLargeOutputThroughLibvirt() throws {
        let script = "head -c 12000000 /tmp/qga-big; head -c 4000000 /tmp/qga-big >&2; exit 5"
        // Text (base64), so that stderr compares as a string.
        _ = try guest("head -c 9000000 /dev/urandom | base64 | head -c 12000000 >/tmp/qga-big")
        defer { _ = try? guest("rm -f /tmp/qga-big") }
        let expected = try qga("cat", .direct, ["\(bed.domain):/tmp/qga-big"], target: false)
        #expect(expected.status == 0 && expected.stdout.count == 12_000_000, "\(expected.status) \(expected.stderr)")

        let result = try qga("run", .libvirt, ["--shell", "--", script])
        #expect(result.status == 5, "\(result.status) \(result.stderr.prefix(300))")
        #expect(result.stdout == expected.stdout)
        #expect(Array(result.stderr.utf8) == Array(expected.stdout.prefix(4_000_000)), "\(result.stderr.prefix(300))")
        #expect(try guest("ls -d /tmp/qga-run-* 2>/dev/null; true") == "")
        let ping = try qga("ping", .libvirt, [])
        #expect(ping.status == 0, "\(ping)")
    }

    /// Under libvirt's output wrapper the command still gets only the -e variables, and a
    /// command that is not there is reported as the shell does.
    @Test func runEnvironmentAndMissingCommandThroughLibvirt() throws {
        let env = try qga("run", .libvirt, ["-e", "A=1", "-e", "PATH=/bin:/usr/bin", "--", "env"])
        #expect(env.status == 0, "\(env)")
        #expect(env.stdoutText.split(separator: "\n").sorted() == ["A=1", "PATH=/bin:/usr/bin"], "\(env)")
        let missing = try qga("run", .libvirt, ["--", "qga-no-such-command", "x"])
        #expect(missing.status == 127, "\(missing)")
        #expect(missing.stderr == "qga-no-such-command: command not found\n", "\(missing)")
    }

    /// `qga exec` through libvirt at its reply limits: a guest-file-read of the largest count
    /// whose reply fits libvirt's 4 MiB message (and so stays far from the 10 MiB line after
    /// which libvirt gives up on the domain's agent) is sent and answered; one byte more is
    /// refused before anything is sent; libvirt's agent answers afterwards.
    @Test func readsThroughLibvirtAtTheLimitAndPastIt() throws {
        let path = "/tmp/qga-libvirt-limit"
        _ = try guest("head -c 4000000 /dev/urandom > \(path)")
        defer { _ = try? guest("rm -f \(path)") }
        let open = try qga("exec", .libvirt, ["guest-file-open", "path=\(path)", "--compact"])
        #expect(open.status == 0, "\(open)")
        let handle = try #require(try JSONParser.parse(open.stdout).number?.text, "\(open)")
        defer { _ = try? qga("exec", .libvirt, ["guest-file-close", "handle:=\(handle)"]) }
        let limit = 3 * 1024 * 1024 - 64 * 1024
        let atLimit = try qga("exec", .libvirt, ["guest-file-read", "handle:=\(handle)", "count:=\(limit)", "--compact"])
        #expect(atLimit.status == 0, "\(atLimit.status) \(atLimit.stderr)")
        #expect(try JSONParser.parse(atLimit.stdout)["count"]?.number?.int == limit)
        let past = try qga("exec", .libvirt, ["guest-file-read", "handle:=\(handle)", "count:=\(limit + 1)"])
        #expect(past.status == 64, "\(past)")
        #expect(past.stderr.contains("at most \(limit) bytes"), "\(past)")
        // Nothing was sent: the file position is where the first read left it.
        let rest = try qga("exec", .libvirt, ["guest-file-read", "handle:=\(handle)", "count:=\(limit)", "--compact"])
        #expect(try JSONParser.parse(rest.stdout)["count"]?.number?.int == 4_000_000 - limit, "\(rest.status) \(rest.stderr)")
        let ping = try qga("ping", .libvirt, [])
        #expect(ping.status == 0, "\(ping)")
    }

    // MARK: cp and cat

    /// 0 bytes, 1 byte and 20 MiB of random bytes to the guest and back, the same by sha256
    /// on the host and in the guest.
    @Test(arguments: Route.allCases)
    func copyBothWaysKeepsTheBytes(_ route: Route) throws {
        let host = try TemporaryDirectory("qga-vm-cp")
        defer { host.remove() }
        let dir = "/tmp/qga-cp-\(route)"
        _ = try guest("rm -rf \(dir) && mkdir \(dir)")
        defer { _ = try? guest("rm -rf \(dir)") }
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? random.close() }
        for size in [0, 1, 20 << 20] {
            let source = host.path + "/f\(size)"
            let guestFile = "\(bed.domain):\(dir)/f\(size)"
            #expect(FileManager.default.createFile(atPath: source, contents: random.readData(ofLength: size)))
            let up = try qga("cp", route, [source, guestFile], target: false)
            #expect(up.status == 0, "\(size): \(up)")
            let down = try qga("cp", route, [guestFile, source + ".back"], target: false)
            #expect(down.status == 0, "\(size): \(down)")
            let sum = try hostSHA256(source)
            #expect(try hostSHA256(source + ".back") == sum, "\(size) bytes")
            #expect(try guest("sha256sum \(dir)/f\(size)").hasPrefix(sum + " "), "\(size) bytes in the guest")
        }
        let cat = try qga("cat", route, ["\(bed.domain):\(dir)/f1"], target: false)
        #expect(cat.status == 0, "\(cat)")
        #expect(cat.stdout == Array(try Data(contentsOf: URL(fileURLWithPath: host.path + "/f1"))))
    }

    /// A destination in a missing guest directory: a clear error and nothing created; a
    /// missing guest file: an error and no host file.
    @Test(arguments: Route.allCases)
    func copyWithAMissingGuestDirectory(_ route: Route) throws {
        let host = try TemporaryDirectory("qga-vm-cp")
        defer { host.remove() }
        #expect(FileManager.default.createFile(atPath: host.path + "/in", contents: Data("x".utf8)))
        let missing = "/tmp/qga-no-such-dir/sub/file"
        let up = try qga("cp", route, [host.path + "/in", "\(bed.domain):\(missing)"], target: false)
        #expect(up.status == 1, "\(up)")
        #expect(up.stderr.hasPrefix("qga: cannot open \(missing) in the guest: "), "\(up.stderr)")
        #expect(!up.stderr.contains("partial"), "\(up.stderr)")
        #expect(try guest("test -e /tmp/qga-no-such-dir && echo exists || echo absent") == "absent\n")

        let down = try qga("cp", route, ["\(bed.domain):\(missing)", host.path + "/out"], target: false)
        #expect(down.status == 1, "\(down)")
        #expect(down.stderr.hasPrefix("qga: cannot open \(missing) in the guest: "), "\(down.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: host.path) == ["in"])
    }
}
