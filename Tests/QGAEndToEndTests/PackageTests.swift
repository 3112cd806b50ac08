import Foundation
import QGATestSupport
import Testing

/// The packages scripts/package built, in `QGA_PACKAGES` (scripts/test builds them and sets it).
enum Packages {
    static let directory = ProcessInfo.processInfo.environment["QGA_PACKAGES"]

    /// The one file in the directory named `prefix…suffix`.
    static func file(_ prefix: String, _ suffix: String) throws -> String {
        let directory = try #require(directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }
        try #require(names.count == 1, "expected one \(prefix)*\(suffix) in \(directory), found \(names)")
        return directory + "/" + names[0]
    }

    /// The regular files a .deb holds, as absolute paths.
    static func debFiles(_ deb: String) throws -> [String] {
        let listing = try run("/usr/bin/dpkg-deb", ["--contents", deb])
        try #require(listing.status == 0, "\(listing)")
        return listing.stdoutText.split(separator: "\n").compactMap { line in
            guard line.first == "-", let path = line.split(separator: " ").last else { return nil }
            return String(path.dropFirst())  // "./usr/bin/qga" → "/usr/bin/qga"
        }
    }

    static func field(_ deb: String, _ name: String) throws -> String {
        let result = try run("/usr/bin/dpkg-deb", ["--field", deb, name])
        try #require(result.status == 0, "\(result)")
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// dpkg with `arguments`; while another dpkg or apt holds the lock, tries again for up
    /// to two minutes.
    static func dpkg(_ arguments: [String]) throws -> ProcessResult {
        let deadline = Date().addingTimeInterval(120)
        while true {
            let result = try run("/usr/bin/dpkg", arguments, timeout: 300)
            let locked = result.status != 0 && result.stderr.contains("lock")
            if !locked || Date() > deadline { return result }
            usleep(500_000)
        }
    }

    static func isInstalled(_ package: String) throws -> Bool {
        let result = try run("/usr/bin/dpkg-query", ["--show", "--showformat=${db:Status-Status}", package])
        return result.status == 0 && result.stdoutText == "installed"
    }

    /// The `(NEEDED)` libraries of an ELF file; empty for a static executable.
    static func neededLibraries(_ path: String) throws -> [String] {
        let result = try run("/usr/bin/readelf", ["--dynamic", path])
        try #require(result.status == 0, "\(result)")
        return result.stdoutText.split(separator: "\n").compactMap { line in
            guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]")
            else { return nil }
            return String(line[line.index(after: open)..<close])
        }
    }
}

/// The .deb and .rpm packages: what they hold, that they install and purge cleanly, and
/// what lintian says of them. Installing changes the machine: the qga package goes onto
/// this machine and is purged whatever happens; the qgad package, which would remove the
/// qemu-guest-agent the other tests run, goes into a scratch root.
@Suite(
    .serialized,
    .enabled(if: Packages.directory != nil, "QGA_PACKAGES is not set: scripts/test sets it to what scripts/package built"))
struct PackageTests {
    @Test func qgaDebInstallsWorksAndPurgesClean() throws {
        let deb = try Packages.file("qga_", ".deb")
        let files = try Packages.debFiles(deb)
        #expect(
            Set(files).isSuperset(of: [
                "/usr/bin/qga", "/usr/share/man/man1/qga.1.gz", "/usr/share/bash-completion/completions/qga",
                "/usr/share/zsh/vendor-completions/_qga", "/usr/share/fish/vendor_completions.d/qga.fish",
                "/usr/share/doc/qga/copyright", "/usr/share/doc/qga/changelog.gz",
                "/usr/bin/qga-exporter", "/usr/share/man/man1/qga-exporter.1.gz",
                "/lib/systemd/system/qga-exporter.service", "/etc/default/qga-exporter",
            ]))
        // Its flags file is the administrator's: kept on remove, dropped on purge.
        let conffiles = try run("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"])
        #expect(conffiles.status == 0 && conffiles.stdoutText == "/etc/default/qga-exporter\n", "\(conffiles)")
        try #require(!(try Packages.isInstalled("qga")), "a qga package is already installed here")
        for file in files { try #require(!FileManager.default.fileExists(atPath: file), "\(file) exists before the install") }

        defer { _ = try? Packages.dpkg(["--purge", "qga"]) }
        let install = try Packages.dpkg(["--install", deb])
        try #require(install.status == 0, "\(install)")

        let expected = try Packages.field(deb, "Version")
        let version = try run("/usr/bin/qga", ["--version"])
        #expect(version.status == 0 && version.stdoutText == expected + "\n", "\(version)")
        // The Swift runtime is inside the binary: nothing of Swift's is needed at run time.
        let needed = try Packages.neededLibraries("/usr/bin/qga")
        #expect(!needed.isEmpty && !needed.contains { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") }, "\(needed)")
        let man = try run("/usr/bin/man", ["-w", "qga"])
        #expect(man.stdoutText == "/usr/share/man/man1/qga.1.gz\n", "\(man)")
        // bash-completion loads the file by the command's name; it defines the completion.
        let bash = try run("/bin/bash", ["-c", ". /usr/share/bash-completion/completions/qga && complete -p qga"])
        #expect(bash.status == 0 && bash.stdoutText.hasPrefix("complete "), "\(bash)")
        for file in ["/usr/share/zsh/vendor-completions/_qga", "/usr/share/fish/vendor_completions.d/qga.fish"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
        }
        try checkInstalledExporter()

        let purge = try Packages.dpkg(["--purge", "qga"])
        try #require(purge.status == 0, "\(purge)")
        #expect(!(try Packages.isInstalled("qga")))
        for file in files { #expect(!FileManager.default.fileExists(atPath: file), "\(file) is left after the purge") }
        #expect(!FileManager.default.fileExists(atPath: "/usr/share/doc/qga"))
    }

    @Test func qgadDebInstallsIntoAScratchRootAndPurgesClean() throws {
        let deb = try Packages.file("qgad_", ".deb")
        #expect(try Packages.field(deb, "Conflicts") == "qemu-guest-agent")
        #expect(try Packages.field(deb, "Replaces") == "qemu-guest-agent")
        #expect(try Packages.field(deb, "Depends") == "")
        let files = try Packages.debFiles(deb)
        #expect(
            Set(files)
                == [
                    "/usr/sbin/qgad", "/lib/systemd/system/qgad.service", "/lib/udev/rules.d/60-qgad.rules",
                    "/usr/share/man/man8/qgad.8.gz", "/usr/share/doc/qgad/examples/qemu-ga.conf",
                    "/usr/share/doc/qgad/copyright", "/usr/share/doc/qgad/changelog.gz", "/usr/share/lintian/overrides/qgad",
                ])

        // A root of its own with an empty dpkg database. The maintainer scripts run outside
        // it (chrootless, with DPKG_ROOT set), where they must leave the running system alone.
        let scratch = try TemporaryDirectory("qgad-root")
        defer { scratch.remove() }
        let root = scratch.path
        let admin = root + "/var/lib/dpkg"
        for dir in ["info", "updates", "triggers"] {
            try FileManager.default.createDirectory(atPath: admin + "/" + dir, withIntermediateDirectories: true)
        }
        for file in ["status", "available"] { _ = FileManager.default.createFile(atPath: admin + "/" + file, contents: nil) }
        let dpkgRoot = ["--root=" + root, "--force-script-chrootless", "--log=" + root + "/dpkg.log"]

        let install = try Packages.dpkg(dpkgRoot + ["--install", deb])
        try #require(install.status == 0, "\(install)")
        for file in files { #expect(FileManager.default.fileExists(atPath: root + file), "\(file) is not installed") }
        let qgad = root + "/usr/sbin/qgad"
        #expect(try Packages.neededLibraries(qgad).isEmpty, "qgad is not static")
        let expected = try Packages.field(deb, "Version")
        let version = try run(qgad, ["--version"])
        #expect(version.stdoutText.hasSuffix(" " + expected + "\n"), "\(version)")
        // The example config is accepted as shipped.
        let dump = try run(qgad, ["-c", root + "/usr/share/doc/qgad/examples/qemu-ga.conf", "-D"])
        #expect(dump.status == 0, "\(dump)")
        try verifyUnit(root: root)

        let purge = try Packages.dpkg(dpkgRoot + ["--purge", "qgad"])
        try #require(purge.status == 0, "\(purge)")
        // Nothing left but the scratch root's own dpkg database and log.
        let left = try FileManager.default.subpathsOfDirectory(atPath: root).filter { path in
            !(path.hasPrefix("var/lib/dpkg") || path == "var/lib" || path == "var" || path == "dpkg.log")
        }
        #expect(left.isEmpty, "left after the purge: \(left.sorted())")
    }

    /// qga-exporter as the qga package installed it: it runs, its man page is found, and its
    /// unit passes `systemd-analyze verify` and takes its flags from /etc/default/qga-exporter.
    func checkInstalledExporter() throws {
        let help = try run("/usr/bin/qga-exporter", ["--help"])
        #expect(help.status == 0 && help.stdoutText.contains("--web.listen-address"), "\(help)")
        // The Swift runtime is inside, as in qga.
        let needed = try Packages.neededLibraries("/usr/bin/qga-exporter")
        #expect(!needed.isEmpty && !needed.contains { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") }, "\(needed)")
        let man = try run("/usr/bin/man", ["-w", "qga-exporter"])
        #expect(man.stdoutText == "/usr/share/man/man1/qga-exporter.1.gz\n", "\(man)")
        let unit = try String(contentsOfFile: "/lib/systemd/system/qga-exporter.service", encoding: .utf8)
        #expect(unit.contains("EnvironmentFile=-/etc/default/qga-exporter\n"))
        #expect(unit.contains("ExecStart=/usr/bin/qga-exporter $ARGS\n"))
        #expect(unit.contains("SupplementaryGroups=libvirt\n") && unit.contains("Restart=on-failure\n"))
        let defaults = try String(contentsOfFile: "/etc/default/qga-exporter", encoding: .utf8)
        #expect(defaults.contains("\nARGS=\"\"\n"), "\(defaults)")
        // Installed on this machine's root, so systemd-analyze finds the program as it is.
        try verifyUnit(at: "/lib/systemd/system/qga-exporter.service")
    }

    /// `systemd-analyze verify` on the installed unit. It checks that ExecStart's program
    /// exists, on this machine's root, so a copy points it at the scratch root's qgad.
    func verifyUnit(root: String) throws {
        let units = try TemporaryDirectory("qgad-unit")
        defer { units.remove() }
        let unit = try String(contentsOfFile: root + "/lib/systemd/system/qgad.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/sbin/qgad "))
        let copy = unit.replacingOccurrences(of: "ExecStart=/usr/sbin/qgad ", with: "ExecStart=\(root)/usr/sbin/qgad ")
        try copy.write(toFile: units.path + "/qgad.service", atomically: false, encoding: .utf8)
        try verifyUnit(at: units.path + "/qgad.service")
    }

    func verifyUnit(at path: String) throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else {
            print("PackageTests: \(analyze) is missing (Debian's systemd package); \(path) is not verified")
            return
        }
        let result = try run(analyze, ["verify", "--man=no", path], timeout: 60)
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result)")
    }

    @Test func lintianReportsNoErrors() throws {
        let debs = [try Packages.file("qga_", ".deb"), try Packages.file("qgad_", ".deb")]
        let lintian = "/usr/bin/lintian"
        try #require(FileManager.default.isExecutableFile(atPath: lintian), "lintian is not installed (Debian's lintian package)")
        let result = try run(lintian, ["--fail-on", "error", "--display-info"] + debs, timeout: 600)
        let lines = result.stdoutText.split(separator: "\n")
        // Warnings and notes are listed, not failed.
        if !lines.isEmpty { print("lintian:\n" + lines.joined(separator: "\n")) }
        #expect(result.status == 0 && !lines.contains { $0.hasPrefix("E: ") }, "\(result)")
    }

    @Test func rpmHoldsTheAgentItsUnitAndTheConflict() throws {
        let rpm = try Packages.file("qgad-", ".rpm")
        let list = try run("/usr/bin/rpm", ["--query", "--list", "--package", rpm])
        try #require(list.status == 0, "\(list)")
        #expect(
            Set(list.stdoutText.split(separator: "\n").map(String.init))
                == [
                    "/usr/sbin/qgad", "/usr/lib/systemd/system/qgad.service", "/usr/lib/udev/rules.d/60-qgad.rules",
                    "/usr/share/man/man8/qgad.8.gz", "/usr/share/doc/qgad/examples/qemu-ga.conf",
                    "/usr/share/licenses/qgad/LICENSE",
                ])
        let conflicts = try run("/usr/bin/rpm", ["--query", "--conflicts", "--package", rpm])
        #expect(conflicts.stdoutText == "qemu-guest-agent\n", "\(conflicts)")
        // The static binary needs no library: only the scriptlets' shell and rpm's own features.
        let requires = try run("/usr/bin/rpm", ["--query", "--requires", "--package", rpm])
        let needs = requires.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("rpmlib(") && $0 != "/bin/sh" }
        #expect(requires.status == 0 && needs.isEmpty, "\(requires)")
    }
}

/// packaging/qemu-ga.conf, the commented config the qgad packages ship as an example.
@Suite struct ExampleConfigTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("packaging/qemu-ga.conf").path

    @Test func qgadAcceptsTheExampleAsShippedAndWithEveryKeyUncommented() throws {
        let shipped = try run(try Binaries.path("qgad"), ["-c", Self.path, "-D"])
        #expect(shipped.status == 0 && shipped.stderr.isEmpty, "\(shipped)")

        // Every `#key=value` line made live, but allow-rpcs (not together with block-rpcs).
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let live = text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> Substring? in
            guard line.hasPrefix("#"), let key = line.dropFirst().first, key.isLowercase else { return line }
            return line.hasPrefix("#allow-rpcs=") ? nil : line.dropFirst()
        }
        let dir = try TemporaryDirectory("example-conf")
        defer { dir.remove() }
        try live.joined(separator: "\n").write(toFile: dir.path + "/qemu-ga.conf", atomically: false, encoding: .utf8)
        let uncommented = try run(try Binaries.path("qgad"), ["-c", dir.path + "/qemu-ga.conf", "-D"])
        #expect(uncommented.status == 0 && uncommented.stderr.isEmpty, "\(uncommented)")
        #expect(uncommented.stdoutText.contains("freeze-timeout=600"), "\(uncommented)")
        #expect(uncommented.stdoutText.contains("block-rpcs=guest-exec,guest-exec-status,guest-file-open"), "\(uncommented)")
    }
}

/// scripts/package takes the packages' version from the binaries; both report `Release.version`.
@Suite struct ReleaseVersionTests {
    @Test func qgaAndQgadReportOneVersion() throws {
        let qga = try Binaries.qga(["--version"])
        let qgad = try run(try Binaries.path("qgad"), ["--version"])
        let qgaVersion = qga.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(qga.status == 0 && !qgaVersion.isEmpty, "\(qga)")
        #expect(qgad.status == 0 && qgad.stdoutText.hasSuffix(" \(qgaVersion)\n"), "\(qgad)")
    }
}
