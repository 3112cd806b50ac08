import Glibc
import QGATestSupport
import Testing

@testable import QGACommands

/// The wrapper that keeps `qga run`'s output out of libvirt's way: the marker it reads, the
/// arguments it builds, and the script itself under each shell this host has (the VM test
/// bed runs it under busybox; VMEverydayTests end to end).
struct OutputSpoolTests {
    var spool: OutputSpool {
        var generator = SplitMix(seed: 7)
        return OutputSpool(using: &generator)
    }

    @Test func outcomeIsSpooledOnlyForTheBareMarker() {
        let spool = spool
        let marker = Array("\(spool.token) spooled\n".utf8)
        #expect(spool.outcome(stdout: [], stderr: marker) == .spooled)
        #expect(spool.outcome(stdout: [0x41], stderr: marker) == .inline)
        #expect(spool.outcome(stdout: [], stderr: Array("x\n".utf8) + marker) == .inline)
        #expect(spool.outcome(stdout: [], stderr: Array("qga-run-0 spooled\n".utf8)) == .inline)
        #expect(spool.outcome(stdout: [], stderr: []) == .inline)
        let refused = Array("sh: can't create /tmp/x.out: File exists\nfull\n\(spool.token) unspooled\n".utf8)
        #expect(spool.outcome(stdout: [], stderr: refused) == .unspooled(said: "sh: can't create /tmp/x.out: File exists; full"))
    }

    @Test func theShellsVariablesGoOnlyWhenMinusEGivesTheEnvironment() {
        let spool = spool
        #expect(spool.files.hasPrefix("/tmp/qga-run-") && spool.token.hasPrefix("qga-run-"))
        #expect(spool.files != "/tmp/" + spool.token)
        func drop(_ environment: [String]) -> String { spool.wrap(["env"], environment: environment)[7] }
        #expect(drop([]) == "")
        #expect(drop(["A=1"]) == "PWD OLDPWD SHLVL PATH")
        #expect(drop(["PATH=/x", "SHLVL=3"]) == "PWD OLDPWD")
        #expect(spool.wrap(["env", "-0"], environment: []).suffix(2) == ["env", "-0"])
    }

    @Test func linesArePassedOnWhole() {
        var lines = LineChunks()
        #expect(lines.add(Array("ab".utf8)) == [])
        #expect(lines.add(Array("c\nd".utf8)) == Array("abc\n".utf8))
        #expect(lines.add(Array("\n\ne".utf8)) == Array("d\n\n".utf8))
        #expect(lines.finish() == Array("e".utf8))
        #expect(lines.finish() == [])
        let long = [UInt8](repeating: 0x61, count: LineChunks.longest + 1)
        #expect(lines.add(long) == long)
    }

    /// The script under each shell here: small output inline and its files gone, large
    /// output left in the files with only the marker on stderr, the status (also 128+N for
    /// a signal, with no "Terminated" from the shell), a missing command, the -e variables.
    static let shells: [String] = ["/bin/dash", "/bin/bash", "/bin/busybox"].filter { (path: String) in access(path, X_OK) == 0 }

    @Test(arguments: OutputSpoolTests.shells)
    func theScript(_ shell: String) throws {
        let spool = spool
        let files = "/tmp/qga-spool-test-\(getpid())-\(shell.split(separator: "/").last ?? "")"
        defer { _ = try? run("/bin/rm", ["-f", "\(files).out", "\(files).err"]) }
        /// `only`: the whole environment, as the agent gives it for -e.
        func wrapped(_ limit: Int, _ drop: String, _ command: [String], only: [String]? = nil) throws -> ProcessResult {
            let clean = only.map { ["/usr/bin/env", "-i"] + $0 } ?? []
            let prefix = shell.hasSuffix("busybox") ? [shell, "sh"] : [shell]
            let argv = clean + prefix + ["-c", OutputSpool.script, "sh", files, String(limit), spool.token, drop] + command
            return try run(argv[0], Array(argv.dropFirst()))
        }
        let small = try wrapped(100, "", ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(small.status == 3 && small.stdoutText == "out\n" && small.stderr == "err\n", "\(small)")
        #expect(access("\(files).out", F_OK) != 0 && access("\(files).err", F_OK) != 0)

        let large = try wrapped(10, "", ["/bin/sh", "-c", "echo 0123456789; echo err >&2; kill -TERM $$"])
        #expect(large.status == 128 + SIGTERM, "\(large)")
        #expect(spool.outcome(stdout: large.stdout, stderr: Array(large.stderr.utf8)) == .spooled, "\(large)")
        #expect(try run("/bin/cat", ["\(files).out", "\(files).err"]).stdoutText == "0123456789\nerr\n")

        // The files are there now: the wrapper refuses to use what it did not create, a
        // symbolic link included.
        let taken = try wrapped(10, "", ["/bin/true"])
        #expect(taken.status == 125, "\(taken)")
        guard case .unspooled = spool.outcome(stdout: taken.stdout, stderr: Array(taken.stderr.utf8)) else {
            Issue.record("not unspooled: \(taken)")
            return
        }
        _ = try run("/bin/rm", ["-f", "\(files).out", "\(files).err"])
        #expect(symlink("/tmp/qga-spool-test-nowhere-\(getpid())", "\(files).out") == 0)
        let linked = try wrapped(10, "", ["/bin/true"])
        #expect(linked.status == 125 && access("/tmp/qga-spool-test-nowhere-\(getpid())", F_OK) != 0, "\(linked)")
        _ = try run("/bin/rm", ["-f", "\(files).out", "\(files).err"])

        let missing = try wrapped(100, "", ["qga-no-such-command"])
        #expect(missing.status == 127 && missing.stderr == "qga-no-such-command: command not found\n", "\(missing)")

        let env = try wrapped(1000, "PWD OLDPWD SHLVL PATH", ["env"], only: ["A=1"])
        // bash, as /bin/sh on some systems, puts back its own SHLVL and _.
        let added: [Substring] = shell.hasSuffix("bash") ? ["SHLVL=0", "_=/usr/bin/env"] : []
        #expect(env.status == 0 && env.stdoutText.split(separator: "\n").filter { !added.contains($0) } == ["A=1"], "\(env)")
    }
}

/// A seeded generator, so the spool's names are the same in every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
