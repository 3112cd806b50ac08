import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// The commands added after the first queries (time, stats, fstrim, ssh-keys, passwd, and
/// `cp -r`) end to end on the test bed, through libvirt and the direct channel, against
/// whichever agent the guest runs. The guest is throwaway: setting its clock, its `guest`
/// user's keys and password is fine, and each test puts back what it changed.
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMNewCommandsTests {
    let bed = TestBed.current!

    /// The test bed's unprivileged account (scripts/vm-testbed): home /home/guest, uid 1000.
    static let user = "guest"

    /// `qga COMMAND... -c URI [--channel ...] DOMAIN ARGUMENTS`; `target` false leaves the
    /// domain out (cp names it in its `TARGET:/PATH`). COMMAND may end with a USER, which
    /// comes before the targets.
    func qga(
        _ command: [String], _ route: Route, _ arguments: [String] = [], target: Bool = true, stdin: [UInt8]? = nil
    ) throws -> ProcessResult {
        let head = command + ["-c", bed.uri] + route.channel + (target ? [bed.domain] : [])
        return try run(try Binaries.path("qga"), head + arguments, stdin: stdin, timeout: 120)
    }

    /// A guest shell command's stdout through the direct channel, checked to have succeeded.
    func guest(_ command: String) throws -> String {
        let result = try qga(["run"], .direct, ["--shell", "--", command])
        #expect(result.status == 0, "\(command): \(result)")
        return result.stdoutText
    }

    /// The output's lines, without the last line end.
    static func lines(_ result: ProcessResult) -> [String] {
        result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// The commands the guest's agent has, and its version.
    func agentInfo(_ route: Route) throws -> (version: String, commands: Set<String>) {
        let info = try JSONParser.parse(try qga(["info"], route, ["--json", "--compact"]).stdout)
        let commands = info["supported_commands"]?.array?.compactMap { $0["name"]?.string } ?? []
        return (info["version"]?.string ?? "?", Set(commands))
    }

    static func hostNanoseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    /// The seconds of `qga time`'s `offset:` line.
    static func offset(_ lines: [String]) -> Double? {
        lines.last?.wholeMatch(of: /offset: ([+-]\d+\.\d{3}) s.*/).flatMap { Double($0.1) }
    }

    // MARK: time

    /// The guest's clock read (its RTC came from the host at boot, so it is near the host's),
    /// set an hour back, then set to the host's with --sync: the offset afterwards is about
    /// the round trip.
    @Test(arguments: Route.allCases)
    func time(_ route: Route) throws {
        let human = try qga(["time"], route)
        #expect(human.status == 0 && human.stderr.isEmpty, "\(human)")
        let lines = Self.lines(human)
        #expect(lines.count == 3, "\(human)")
        #expect(lines.first?.wholeMatch(of: /utc:    \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC/) != nil, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("local:  ") == true, "\(lines)")
        #expect(try #require(Self.offset(lines), "\(lines)").magnitude < 300, "\(lines)")

        let before = Self.hostNanoseconds()
        let json = try qga(["time"], route, ["--json"])
        let after = Self.hostNanoseconds()
        #expect(json.status == 0, "\(json)")
        let read = try #require(try JSONParser.parse(json.stdout).number?.int64, "\(json)")
        #expect(read > before - 300_000_000_000 && read < after + 300_000_000_000)

        // An hour back with --set, then --sync brings it to the host's. Both also run
        // hwclock -w in the guest; the clock is read back and shown.
        let hourAgo = (before / 1_000_000_000) - 3600
        let set = try qga(["time"], route, ["--set", "@\(hourAgo)"])
        #expect(set.status == 0 && set.stderr.isEmpty, "\(set)")
        #expect(try #require(Self.offset(Self.lines(set)), "\(set)") < -3500, "\(set)")
        let sync = try qga(["time"], route, ["--sync"])
        #expect(sync.status == 0 && sync.stderr.isEmpty, "\(sync)")
        #expect(try #require(Self.offset(Self.lines(sync)), "\(sync)").magnitude < 5, "\(sync)")
        let start = Self.hostNanoseconds()
        let synced = try qga(["time"], route, ["--json"])
        let end = Self.hostNanoseconds()
        let guest = try #require(try JSONParser.parse(synced.stdout).number?.int64, "\(synced)")
        #expect(guest > start - 5_000_000_000 && guest < end + 5_000_000_000, "\(guest) not in \(start)...\(end)")
    }

    // MARK: stats

    /// CPU and disk counters (QEMU 7.1: both agents have them); an agent without one must
    /// say which QEMU added it.
    @Test(arguments: Route.allCases)
    func stats(_ route: Route) throws {
        let agent = try agentInfo(route)
        for (kind, command, header) in [
            ("cpu", Catalogue.Commands.guestGetCpustats.name, ["CPU", "USER", "NICE", "SYSTEM", "IDLE"]),
            ("disk", Catalogue.Commands.guestGetDiskstats.name, ["NAME", "MAJ:MIN", "READS", "READ-SECTORS"]),
        ] {
            let human = try qga(["stats", kind], route)
            guard agent.commands.contains(command) else {
                let since = try #require(Catalogue.info(command)?.since)
                #expect(human.status == 1 && human.stdout.isEmpty, "\(human)")
                let message = ": the agent has no \(command) (added in QEMU \(since)); it is version \(agent.version)\n"
                #expect(human.stderr.hasSuffix(message), "\(human)")
                continue
            }
            #expect(human.status == 0 && human.stderr.isEmpty, "\(kind): \(human)")
            let lines = Self.lines(human)
            #expect(lines.first.map { Array($0.split(separator: " ").map(String.init).prefix(header.count)) } == header, "\(human)")

            let json = try qga(["stats", kind], route, ["--json", "--compact"])
            #expect(json.status == 0, "\(kind): \(json)")
            let entries = try #require(try JSONParser.parse(json.stdout).array, "\(json)")
            #expect(lines.count == entries.count + 1, "\(kind): a row for each entry: \(human)")
            if kind == "cpu" {
                // One vCPU, which has been running.
                #expect(entries.count == 1 && entries.first?["type"]?.string == "linux", "\(json)")
                #expect((entries.first?["user"]?.number?.int64 ?? 0) + (entries.first?["system"]?.number?.int64 ?? 0) > 0, "\(json)")
            } else {
                // The data disk, which the guest has read at least its superblock from.
                let vda = try #require(entries.first { $0["name"]?.string == "vda" }, "\(json)")
                #expect((vda["stats"]?["read-ios"]?.number?.int64 ?? 0) > 0, "\(vda)")
                #expect(lines.contains { $0.hasPrefix("vda ") }, "\(human)")
            }
        }
    }

    // MARK: fstrim

    /// Every mounted filesystem trimmed or its error reported; either way a table and exit 0.
    /// (The data disk's discards may be ignored by QEMU, or refused: both are fine here.)
    @Test(arguments: Route.allCases)
    func fstrim(_ route: Route) throws {
        let human = try qga(["fstrim"], route)
        #expect(human.status == 0 && human.stderr.isEmpty, "\(human)")
        let lines = Self.lines(human)
        #expect(lines.first?.split(separator: " ") == ["PATH", "TRIMMED", "ERROR"], "\(human)")
        let row = try #require(lines.first { $0.hasPrefix("/mnt/data ") }, "\(human)")
        #expect(row.split(separator: " ").count >= 2, "\(row)")

        let json = try qga(["fstrim"], route, ["--json", "--compact"])
        #expect(json.status == 0, "\(json)")
        let paths = try #require(try JSONParser.parse(json.stdout)["paths"]?.array, "\(json)")
        #expect(lines.count == paths.count + 1, "\(human)")
        let data = try #require(paths.first { $0["path"]?.string == "/mnt/data" }, "\(json)")
        #expect(data["trimmed"]?.number != nil || data["error"]?.string != nil, "\(data)")
    }

    // MARK: ssh-keys

    /// add, list and remove for the guest's unprivileged user: the agent makes ~/.ssh and
    /// authorized_keys owned by the user and private to it. ~/.ssh is removed afterwards.
    @Test(arguments: Route.allCases)
    func sshKeys(_ route: Route) throws {
        let user = Self.user
        let home = "/home/\(user)"
        _ = try guest("rm -rf \(home)/.ssh")
        defer { _ = try? guest("rm -rf \(home)/.ssh") }
        let one = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIQgaVmTestKeyOne qga-vm-\(route)-1"
        let two = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQgaVmTestKeyTwo qga-vm-\(route)-2"
        func list() throws -> [String] {
            let result = try qga(["ssh-keys", "list", user], route)
            #expect(result.status == 0 && result.stderr.isEmpty, "\(result)")
            return Self.lines(result)
        }

        let add = try qga(["ssh-keys", "add", user], route, ["-k", one])
        #expect(add.status == 0 && add.stdout.isEmpty && add.stderr.isEmpty, "\(add)")
        let fromStdin = try qga(["ssh-keys", "add", user], route, ["-f", "-"], stdin: Array("# a comment\n\(two)\n\(one)\n".utf8))
        #expect(fromStdin.status == 0 && fromStdin.stdout.isEmpty, "\(fromStdin)")
        // Both agents list the file's keys last line first; a key already there is kept once.
        #expect(try list() == [two, one])
        #expect(try guest("stat -c '%u:%g %a' \(home)/.ssh \(home)/.ssh/authorized_keys") == "1000:1000 700\n1000:1000 600\n")
        // Both agents write the keys in the order added, with no line end after the last.
        let file = try guest("cat \(home)/.ssh/authorized_keys")
        #expect(file == "\(one)\n\(two)", "\(file)")

        let remove = try qga(["ssh-keys", "remove", user], route, ["-k", one, "--json"])
        #expect(remove.status == 0 && remove.stdoutText == "{}\n", "\(remove)")
        let json = try qga(["ssh-keys", "list", user], route, ["--json", "--compact"])
        #expect(json.stdoutText == #"{"keys":["\#(two)"]}"# + "\n", "\(json)")

        let unknown = try qga(["ssh-keys", "list", "nosuchuser"], route)
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("qga: GenericError: "), "\(unknown)")
    }

    // MARK: passwd

    /// The guest's /etc/shadow entry of its throwaway user (root's stays untouched).
    func shadow() throws -> (user: String, root: String) {
        let entries = try guest("grep -E '^(root|\(Self.user)):' /etc/shadow").split(separator: "\n").map(String.init)
        return (entries.first { $0.hasPrefix(Self.user + ":") } ?? "?", entries.first { $0.hasPrefix("root:") } ?? "?")
    }

    /// A password from stdin, then a crypt(3) hash with --crypted, for the throwaway user;
    /// the test bed's chpasswd (a shell script over busybox's mkpasswd) writes /etc/shadow.
    /// Its original entry is put back afterwards.
    @Test(arguments: Route.allCases)
    func passwd(_ route: Route) throws {
        let user = Self.user
        let original = try shadow()
        #expect(original.user.hasPrefix(user + ":"), "\(original)")
        defer { _ = try? guest("sed -i 's|^\(user):[^:]*:|\(user):*:|' /etc/shadow") }

        let plain = try qga(["passwd", user], route, stdin: Array("Throwaway-\(route)-pw\n".utf8))
        #expect(plain.status == 0 && plain.stdout.isEmpty && plain.stderr.isEmpty, "\(plain)")
        let hashed = try shadow()
        #expect(hashed.user.hasPrefix("\(user):$6$") && hashed.user.hasSuffix(":19000:0:99999:7:::"), "\(hashed)")
        #expect(hashed.root == original.root)

        let hash = "$6$qgaVmSalt$1yCVG6p4vqVbHqbf6yKyy/8VxmkfpYgxVJ0E4P1fVd1Cg0Ol4gUz7Hzq5W6c4LVw9vOd.Pn9V0kZQfVZ0PN3d."
        let crypted = try qga(["passwd", user], route, ["--crypted", "--json"], stdin: Array(hash.utf8))
        #expect(crypted.status == 0 && crypted.stdoutText == "{}\n", "\(crypted)")
        #expect(try shadow().user == "\(user):\(hash):19000:0:99999:7:::")

        // chpasswd refuses a user the guest does not have.
        let unknown = try qga(["passwd", "nosuchuser"], route, stdin: Array("pw\n".utf8))
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("qga: GenericError: "), "\(unknown)")
    }

    // MARK: cp -r

    /// A small tree: nested directories, an empty one, an empty file, a one-byte file with
    /// its own mode, and a relative symbolic link.
    static func makeTree(at root: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/a/b/c", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root + "/empty dir", withIntermediateDirectories: true)
        #expect(manager.createFile(atPath: root + "/empty", contents: Data()))
        #expect(manager.createFile(atPath: root + "/one", contents: Data("x".utf8)))
        #expect(manager.createFile(atPath: root + "/a/b/c/deep.txt", contents: Data("deep\n".utf8)))
        try manager.createSymbolicLink(atPath: root + "/a/link", withDestinationPath: "../one")
        chmod(root + "/one", 0o750)
    }

    /// Every path below `root` with what it is: a file's mode and bytes, a link's target, or "dir".
    static func snapshot(_ root: String) -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        for path in manager.subpaths(atPath: root) ?? [] {
            let full = root + "/" + path
            var info = stat()
            guard lstat(full, &info) == 0 else {
                result[path] = "?"
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFLNK: result[path] = "link:" + ((try? manager.destinationOfSymbolicLink(atPath: full)) ?? "?")
            case S_IFDIR: result[path] = "dir"
            default:
                result[path] = "mode \(String(info.st_mode & 0o777, radix: 8)) " + (manager.contents(atPath: full)?.base64EncodedString() ?? "?")
            }
        }
        return result
    }

    /// The tree to the guest (through its tar) and back, the same on return; in the guest
    /// the same paths, the link a link and the files' bytes. With no tar in the guest, the
    /// error that says so.
    @Test(arguments: Route.allCases)
    func copyTreeBothWays(_ route: Route) throws {
        let host = try TemporaryDirectory("qga-vm-cpr")
        defer { host.remove() }
        try Self.makeTree(at: host.path + "/tree")
        let original = Self.snapshot(host.path + "/tree")
        #expect(original.count == 8, "\(original)")
        let dir = "/tmp/qga-cpr-\(route)"
        _ = try guest("rm -rf \(dir) && mkdir \(dir)")
        defer { _ = try? guest("rm -rf \(dir)") }
        let hasTar = try guest("command -v tar >/dev/null && echo yes || echo no") == "yes\n"

        let up = try qga(["cp"], route, ["-r", host.path + "/tree", "\(bed.domain):\(dir)/tree"], target: false)
        guard hasTar else {
            #expect(up.status == 1 && up.stderr.hasSuffix(": the guest has no tar in its PATH; qga cp -r needs it\n"), "\(up)")
            return
        }
        #expect(up.status == 0 && up.stderr.isEmpty, "\(up)")
        let listing = try guest(
            "cd \(dir)/tree && find . | sort && readlink a/link && cat a/b/c/deep.txt one && wc -c < empty && stat -c %a one")
        let paths = original.keys.map { "./" + $0 }.sorted()
        #expect(listing == (["."] + paths).joined(separator: "\n") + "\n../one\ndeep\nx0\n750\n", "\(listing)")

        let down = try qga(["cp"], route, ["-r", "\(bed.domain):\(dir)/tree", host.path + "/back"], target: false)
        #expect(down.status == 0 && down.stderr.isEmpty, "\(down)")
        #expect(Self.snapshot(host.path + "/back") == original)
        // No archive left in the guest's /tmp.
        #expect(try guest("ls /tmp | grep -c '^qga-cp\\.' || true") == "0\n")
    }
}
