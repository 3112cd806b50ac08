import Foundation
import QGAProtocol
import QGATestSupport
import Testing

/// `qga` against an agent that misbehaves in ways a real one will not on demand.
@Suite struct MisbehavingAgentTests {
    /// Answers the sync, then reads the command and answers it with `reply`.
    static func replying(_ reply: [UInt8]) -> @Sendable (FakeConnection) throws -> Void {
        { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(reply)
        }
    }

    @Test func discardsStaleRepliesBeforeTheSync() throws {
        let agent = try FakeAgent { connection in
            // Left over from earlier clients: a stale reply, a stale delimited sync reply
            // with another id, a half-written object, and an event.
            connection.send(#"{"return": {"stale": 1}}"# + "\n")
            connection.send([0xFF] + Array(#"{"return": 12345}"#.utf8) + [0x0A])
            connection.send(#"{"return": 12345}{"event": "X"}{"return": {"half": "#)
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(#"{"event": "SOMETHING"}"# + "\n" + #"{"return": {"fresh": true}}"# + "\n")
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--compact"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == #"{"fresh":true}"# + "\n")
    }

    @Test func wrongIdsForeverTimeOut() throws {
        let agent = try FakeAgent { connection in
            guard let request = connection.nextRequest(), let id = request["arguments"]?["id"]?.number?.uint64 else { return }
            for n in 0..<100_000 {
                connection.send([0xFF] + Array(#"{"return": \#(id &+ 1 &+ UInt64(n % 7))}"#.utf8) + [0x0A])
                usleep(1000)
            }
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--sync-timeout", "1"])
        #expect(result.status == 3, "\(result)")
        #expect(result.seconds < 2.5)
        #expect(result.stderr.contains("did not answer guest-sync-delimited within 1 s"))
    }

    @Test func silenceTimesOutWithinTheSyncTimeout() throws {
        let agent = try FakeAgent { connection in connection.stall(20) }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--sync-timeout", "1.5"])
        #expect(result.status == 3, "\(result)")
        #expect(result.seconds < 2.5)
        #expect(result.stderr.contains("guest-sync-delimited"))
    }

    @Test func silenceAfterTheSyncTimesOutWithinTheCommandTimeout() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            connection.stall(20)
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-info", "--timeout", "1"])
        #expect(result.status == 3, "\(result)")
        #expect(result.seconds < 2)
        #expect(result.stderr.contains("did not answer guest-info within 1 s"))
    }

    @Test func eofMidReply() throws {
        let agent = try FakeAgent(Self.replying(Array(#"{"return": {"a": "#.utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-info"])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("closed the connection in the middle of a reply"))
    }

    @Test func eofBeforeAnyReplyIsUnreachable() throws {
        let agent = try FakeAgent { _ in }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-info"])
        #expect(result.status == 2, "\(result)")
    }

    @Test func replyOverTheCapIsRefusedWithBoundedMemory() throws {
        // 256 MiB of reply against a 16 MiB cap: refused without buffering all of it.
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(#"{"return": ""#)
            let block = [UInt8](repeating: UInt8(ascii: "A"), count: 1 << 20)
            for _ in 0..<256 { connection.send(block) }
            connection.send("\"}\n")
        }
        let (result, peakKiB) = try runMeasuringPeakRSS(
            try Binaries.path("qga"), ["exec", agent.socketPath, "guest-file-read", "handle:=1"])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("larger than 16777216 bytes"))
        // About 26 MiB at rest and 42 MiB here: the 16 MiB cap, not the 256 MiB sent.
        #expect(peakKiB < 64 * 1024, "peak RSS \(peakKiB) KiB")
    }

    @Test func raisedCapAcceptsALargeReply() throws {
        let size = 20 << 20
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(Array(#"{"return": {"buf-b64": ""#.utf8) + [UInt8](repeating: UInt8(ascii: "A"), count: size) + Array("\"}}\n".utf8))
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-file-read", "handle:=1", "--max-reply-size", "32M", "--compact"])
        #expect(result.status == 0, "\(result.status) \(result.stderr)")
        #expect(result.stdout.count == size + #"{"buf-b64":""}"#.utf8.count + 1)
    }

    @Test func garbageExitsFour() throws {
        let agent = try FakeAgent(Self.replying(Array("this is not JSON\n".utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("not JSON"))
    }

    @Test func malformedJSONExitsFour() throws {
        let agent = try FakeAgent(Self.replying(Array(#"{"return": [1, 2,]}"#.utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("malformed reply"))
    }

    @Test func replyWithoutReturnOrErrorExitsFour() throws {
        let agent = try FakeAgent(Self.replying(Array(#"{"surprise": 1}"#.utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 4, "\(result)")
    }

    @Test func invalidUTF8ExitsFour() throws {
        let agent = try FakeAgent(Self.replying([0x7B, 0x22, 0x72, 0x65, 0x74, 0x75, 0x72, 0x6E, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("UTF-8"))
    }

    @Test func deepNestingExitsFourWithoutCrashing() throws {
        let depth = 200_000
        let agent = try FakeAgent(Self.replying(
            Array(#"{"return": "#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: depth)
                + [UInt8](repeating: UInt8(ascii: "]"), count: depth) + Array("}\n".utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("deeper than 1024"))
    }

    @Test func replyDribbledOneByteAtATime() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            for byte in Array(#"{"return": {"a": [1, "}{\"", {"b": null}]}}"#.utf8) {
                connection.send([byte])
                usleep(2000)
            }
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--compact"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == #"{"a":[1,"}{\"",{"b":null}]}"# + "\n")
    }

    @Test func syncDribbledOneByteAtATime() throws {
        let agent = try FakeAgent { connection in
            guard let request = connection.nextRequest(), let id = request["arguments"]?["id"] else { return }
            for byte in [0xFF] + Array(#"{"return": \#(id)}"#.utf8) {
                connection.send([byte])
                usleep(2000)
            }
            _ = connection.nextRequest()
            connection.send(#"{"return": {}}"#)
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 0, "\(result)")
    }

    @Test func escapeSequencesInStringsAreNeutralised() throws {
        let agent = try FakeAgent(Self.replying(Array(#"{"return": {"host-name": "\u001b]0;pwned\u0007\u001b[2J\u009b31m"}}"#.utf8)))
        for layout in [[String](), ["--compact"]] {
            let result = try Binaries.qga(["exec", agent.socketPath, "guest-get-host-name"] + layout)
            #expect(result.status == 0, "\(result)")
            #expect(!result.stdout.contains(0x1B))
            #expect(!result.stdoutText.unicodeScalars.contains { (0x80..<0xA0).contains($0.value) })
            #expect(result.stdoutText.contains(#"\u001b]0;pwned\u0007"#))
        }
    }

    @Test func errorClassAndDescAreEscapedOnStderr() throws {
        let agent = try FakeAgent(Self.replying(Array(#"{"error": {"class": "GenericError", "desc": "bad\u001b[2J"}}"#.utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 1, "\(result)")
        #expect(!result.stderr.utf8.contains(0x1B))
        #expect(result.stderr == #"qga: GenericError: bad\u001b[2J"# + "\n")
    }

    @Test func fallsBackToGuestSyncForOldAgents() throws {
        let agent = try FakeAgent { connection in
            _ = connection.nextRequest()
            connection.send(#"{"error": {"class": "CommandNotFound", "desc": "The command guest-sync-delimited has not been found"}}"#)
            guard let sync = connection.nextRequest(), sync["execute"] == "guest-sync", let id = sync["arguments"]?["id"] else { return }
            connection.send(#"{"return": \#(id)}"#)
            _ = connection.nextRequest()
            connection.send(#"{"return": {"old": true}}"#)
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--compact"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == #"{"old":true}"# + "\n")
    }

    @Test func syncIdsAreFreshAndInRange() throws {
        let ids = Mutex<[UInt64]>([])
        let agent = try FakeAgent { connection in
            if let id = connection.answerSync()?.number?.uint64 { ids.withLock { $0.append(id) } }
            _ = connection.nextRequest()
            connection.send(#"{"return": {}}"#)
        }
        for _ in 0..<5 {
            let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
            #expect(result.status == 0, "\(result)")
        }
        let seen = ids.withLock { $0 }
        #expect(seen.count == 5)
        #expect(Set(seen).count == 5)
        #expect(seen.allSatisfy { $0 >= 1 && $0 < 1 << 53 })
    }

    @Test func noReplyCommandSucceedsOnSilence() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.stall(10)
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-shutdown", "mode=powerdown", "--timeout", "0.5"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.isEmpty)
    }

    @Test func noReplyCommandSucceedsWhenTheChannelCloses() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-shutdown"])
        #expect(result.status == 0, "\(result)")
        #expect(result.seconds < 2)
    }

    @Test func noReplyCommandReportsAnErrorReply() throws {
        let agent = try FakeAgent(Self.replying(Array(#"{"error": {"class": "CommandNotFound", "desc": "Command guest-shutdown has been disabled"}}"#.utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-shutdown"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("has been disabled"))
    }

    @Test func neverSendsTheCommandWithoutASync() throws {
        let received = Mutex<[String]>([])
        let agent = try FakeAgent { connection in
            while let request = connection.nextRequest(timeout: 3) {
                received.withLock { $0.append(request["execute"]?.string ?? "?") }
            }
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-shutdown", "--sync-timeout", "0.5"])
        #expect(result.status == 3, "\(result)")
        usleep(200_000)
        #expect(received.withLock { $0 } == ["guest-sync-delimited"])
    }
}

/// Request ids, output modes and colour, against a scripted agent.
@Suite struct OutputTests {
    @Test func replyWithAnotherIdIsSkippedAndOneWithoutIdIsAccepted() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(#"{"return": {"who": "stale"}, "id": "other"}"# + "\n" + #"{"return": {"who": "me"}, "id": "mine"}"#)
        }
        let result = try Binaries.qga(["exec", agent.socketPath, #"{"execute":"guest-ping","id":"mine"}"#, "--compact"])
        #expect(result.stdoutText == #"{"who":"me"}"# + "\n", "\(result)")

        let old = try FakeAgent(MisbehavingAgentTests.replying(Array(#"{"return": {"who": "old agent"}}"#.utf8)))
        let fromOld = try Binaries.qga(["exec", old.socketPath, #"{"execute":"guest-ping","id":7}"#, "--compact"])
        #expect(fromOld.stdoutText == #"{"who":"old agent"}"# + "\n", "\(fromOld)")
    }

    @Test func rawPrintsErrorRepliesToo() throws {
        let reply = #"{"error": {"class": "GenericError", "desc": "nope"}, "id": 1}"#
        let agent = try FakeAgent(MisbehavingAgentTests.replying(Array(reply.utf8)))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--raw"])
        #expect(result.status == 1)
        #expect(result.stdoutText == reply + "\n")
        #expect(result.stderr == "qga: GenericError: nope\n")
    }

    static let colouredReply = Array(#"{"return": {"name": "x", "n": 1, "ok": true, "none": null}}"#.utf8)

    /// Runs qga on a pseudo-terminal (util-linux `script`), where colour is on by default.
    func onTerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let qga = try Binaries.path("qga")
        let command = ([qga] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
    }

    @Test func colourOnlyOnATerminal() throws {
        let agent = try FakeAgent(MisbehavingAgentTests.replying(Self.colouredReply))
        let piped = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(!piped.stdout.contains(0x1B))
        let terminal = try onTerminal(["exec", agent.socketPath, "guest-ping"], environment: ["NO_COLOR": ""])
        #expect(terminal.status == 0, "\(terminal)")
        #expect(terminal.stdoutText.contains("\u{1B}[1;34m\"name\"\u{1B}[0m"))
        #expect(terminal.stdoutText.contains("\u{1B}[32m\"x\"\u{1B}[0m"))
    }

    @Test func noColorTurnsColourOff() throws {
        let agent = try FakeAgent(MisbehavingAgentTests.replying(Self.colouredReply))
        let terminal = try onTerminal(["exec", agent.socketPath, "guest-ping"], environment: ["NO_COLOR": "1"])
        #expect(terminal.status == 0, "\(terminal)")
        #expect(!terminal.stdout.contains(0x1B))
        #expect(terminal.stdoutText.contains("\"name\": \"x\""))
        let never = try onTerminal(["exec", agent.socketPath, "guest-ping", "--color", "never"])
        #expect(!never.stdout.contains(0x1B))
        let always = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--color", "always"])
        #expect(always.stdout.contains(0x1B))
    }
}
