import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// What qgad adds to qemu-ga, and its command line. Freezing here uses a mount point list
/// that matches nothing: the agent enters frozen state without touching the host's disks.
@Suite struct QgadTests {
    let emptyFreeze = #"{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/no/such/mountpoint"]}}"#

    @Test func freezeTimeoutThawsByItself() throws {
        let agent = try AgentProcess(.qgad, ["--freeze-timeout", "1"])
        let client = try agent.connect()
        #expect(client.call(emptyFreeze)?["return"] == 0)
        #expect(client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "frozen")
        #expect(FileManager.default.fileExists(atPath: agent.directory.path + "/qga.state.isfrozen"))
        usleep(1_600_000)
        #expect(client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "thawed")
        #expect(!FileManager.default.fileExists(atPath: agent.directory.path + "/qga.state.isfrozen"))
    }

    @Test func frozenStateAllowsOnlyTheAllowlistAndIgnoresSIGTERM() throws {
        let agent = try AgentProcess(.qgad)
        let client = try agent.connect()
        #expect(client.call(emptyFreeze)?["return"] == 0)
        let refused = client.call(#"{"execute":"guest-get-osinfo"}"#)?["error"]?["desc"]?.string
        #expect(refused == "Command guest-get-osinfo has been disabled: the agent is in frozen state")
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        kill(agent.pid, SIGTERM)
        usleep(300_000)
        #expect(kill(agent.pid, 0) == 0, "qgad quit on SIGTERM while frozen")
        #expect(client.call(#"{"execute":"guest-fsfreeze-thaw"}"#)?["return"] == 0)
        kill(agent.pid, SIGTERM)
        #expect(waitForExit(agent.pid, timeout: 30) == 0)
    }

    @Test func aRestartedAgentKnowsItIsFrozen() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try #require(FileManager.default.createFile(atPath: dir.path + "/qga.state.isfrozen", contents: Data()))
        let agent = try AgentProcess(.qgad, ["-t", dir.path])
        let client = try agent.connect()
        #expect(client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "frozen")
    }

    @Test func openFileHandlesAreBounded() throws {
        let agent = try AgentProcess(.qgad)
        let client = try agent.connect()
        var last: JSONValue?
        for _ in 0..<129 {
            last = client.call(#"{"execute":"guest-file-open","arguments":{"path":"/dev/null"}}"#)
            if last?["error"] != nil { break }
        }
        #expect(last?["error"]?["desc"]?.string?.hasPrefix("too many open files (128)") == true)
    }

    @Test func execOutputIsCappedAndFlagged() throws {
        let agent = try AgentProcess(.qgad)
        let client = try agent.connect()
        // 17 MiB of output against the 16 MiB cap per stream.
        let started = client.call(#"{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","head -c 17825792 /dev/zero"],"capture-output":"stdout"}}"#)
        let pid = try #require(started?["return"]?["pid"]?.number?.int)
        var status: JSONValue?
        for _ in 0..<200 {
            status = client.call(#"{"execute":"guest-exec-status","arguments":{"pid":\#(pid)}}"#, timeout: 10)?["return"]
            if status?["exited"] == true { break }
            usleep(50_000)
        }
        #expect(status?["out-truncated"] == true)
        #expect(status?["out-data"]?.string.flatMap { Base64.decode($0) }?.count == 16 << 20)
        #expect(status?["err-data"] == nil)
    }

    @Test func commandLine() throws {
        let qgad = try Binaries.path("qgad")
        let version = try run(qgad, ["-V"])
        #expect(version.status == 0 && version.stdoutText.contains(GuestVersion.text))
        let dump = try run(qgad, ["-D", "-m", "unix-listen", "-p", "/x", "-b", "guest-ping,guest-info", "-v"], environment: ["QGA_CONF": "/nonexistent"])
        #expect(dump.stdoutText.contains("[general]\n"))
        #expect(dump.stdoutText.contains("method=unix-listen\npath=/x\n"))
        #expect(dump.stdoutText.contains("verbose=true"))
        #expect(dump.stdoutText.contains("block-rpcs=guest-ping,guest-info"))
        let list = try run(qgad, ["-b", "help"], environment: ["QGA_CONF": "/nonexistent"])
        #expect(list.stdoutText.split(separator: "\n").contains("guest-get-osinfo"))
        let both = try run(qgad, ["-b", "guest-ping", "-a", "guest-info", "-m", "unix-listen", "-p", "/tmp/x"], environment: ["QGA_CONF": "/nonexistent"])
        #expect(both.status == 1)
        #expect(both.stderr.contains("at the same time is not allowed"))
        let bad = try run(qgad, ["--frobnicate"])
        #expect(bad.status == 1 && bad.stderr.contains("unrecognized option"))
    }

    @Test func allowRPCsDisablesEverythingElse() throws {
        let agent = try AgentProcess(.qgad, ["-a", "guest-ping,guest-sync-delimited,guest-info"])
        let client = try agent.connect()
        #expect(client.sync())
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        #expect(client.call(#"{"execute":"guest-get-host-name"}"#)?["error"]?["class"] == "CommandNotFound")
    }
}

/// qgad's version string, as `-V` prints it.
enum GuestVersion {
    static let text = "qgad 0.1.0"
}

/// man/qgad.8 is written by hand (qgad has no ArgumentParser to generate it from): every
/// long option of `qgad --help` must be in it.
@Test func manPageCoversEveryOption() throws {
    let help = try run(try Binaries.path("qgad"), ["--help"]).stdoutText
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let man = try String(contentsOf: root.appendingPathComponent("man/qgad.8"), encoding: .utf8)
    let options = help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" })
        .filter { $0.hasPrefix("--") }.map { String($0.dropFirst(2).prefix { $0.isLetter || $0 == "-" }) }
    #expect(options.count >= 16)
    for option in options {
        #expect(man.contains("Fl -\(option)"), "man/qgad.8 does not document --\(option)")
    }
}
