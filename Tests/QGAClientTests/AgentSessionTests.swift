@testable import QGAClient
import QGAProtocol
import QGASystem
import Testing

/// `AgentSession` in-process, against a scripted agent on virtual time: the sync, stale
/// replies, split reads, timeouts, the reply cap and no-reply commands, with no socket and
/// no waiting. The end-to-end suite (MisbehavingAgentTests) checks the same through `qga`.
@Suite struct AgentSessionTests {
    static func options(sync: Duration = .seconds(5), timeout: Duration? = nil, maxReplySize: Int? = nil) -> CallOptions {
        var options = CallOptions()
        options.syncTimeout = sync
        options.timeout = timeout
        if let maxReplySize { options.maxReplySize = maxReplySize }
        return options
    }

    /// The error `body` throws, or nil when it succeeds.
    static func failure(_ body: () throws -> Void) -> ClientError? {
        do {
            try body()
            return nil
        } catch let error as ClientError {
            return error
        } catch {
            return ClientError(.operationFailed, "not a ClientError: \(error)")
        }
    }

    static func text(_ reply: Reply?) -> String? { reply.map { String(decoding: $0.raw, as: UTF8.self) } }

    // MARK: The sync

    @Test func syncsThenReturnsTheReply() throws {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text(#"{"return": {"pong": true}}"# + "\n")] })
        let reply = try agent.session().execute(Request("guest-ping"), options: CallOptions())
        #expect(Self.text(reply) == #"{"return": {"pong": true}}"#)
        #expect(reply?.incoming == .success(["pong": true], id: nil))
        #expect(agent.commands == ["guest-sync-delimited", "guest-ping"])
        #expect(agent.requests.first?["arguments"]?["id"] == 42)
        // The 0xFF before the sync flushes whatever a previous client left half-sent.
        #expect(agent.received.first == Framer.delimiterByte)
        #expect(agent.clock.elapsed == .zero)
    }

    @Test func everyCommandSyncsAgainWithTheNextId() throws {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text(#"{"return": {}}"#)] })
        let session = agent.session(syncIDs: [7, 9])
        _ = try session.execute(Request("guest-ping"), options: CallOptions())
        _ = try session.execute(Request("guest-ping"), options: CallOptions())
        #expect(agent.commands == ["guest-sync-delimited", "guest-ping", "guest-sync-delimited", "guest-ping"])
        #expect(agent.requests.compactMap { $0["arguments"]?["id"] } == [7, 9])
        #expect(agent.received.filter { $0 == Framer.delimiterByte }.count == 2)
    }

    @Test func randomSyncIdsAreFreshAndExactInJSON() {
        let ids = (0..<1000).map { _ in AgentSession.randomSyncID() }
        #expect(ids.allSatisfy { $0 >= 1 && $0 < 1 << 53 })
        #expect(Set(ids).count > 990)
    }

    @Test func dropsStaleRepliesBeforeTheSync() throws {
        let agent = ScriptedAgent { request in
            guard request["execute"] == "guest-sync-delimited" else {
                // After the sync, events are skipped; the reply is the next message.
                return [.text(#"{"event": "SOMETHING"}"# + "\n" + #"{"return": {"fresh": true}}"# + "\n")]
            }
            return [
                .text(#"{"return": {"stale": 1}}"# + "\n"),  // a reply to an earlier client's command
                .bytes([0xFF] + Array(#"{"return": 41}"#.utf8) + [0x0A]),  // an earlier sync's reply
                .text(#"{"return": 42}"#),  // our id, but no delimiter before it
                .text("junk \u{1}\n"),
                .text(#"{"return": {"half": "#),  // cut off by the delimiter that follows
                Agent.delimitedSync(request),
            ]
        }
        let reply = try agent.session().execute(Request("guest-ping"), options: CallOptions())
        #expect(Self.text(reply) == #"{"return": {"fresh": true}}"#)
        #expect(agent.commands == ["guest-sync-delimited", "guest-ping"])
    }

    @Test func ourIdWithoutADelimiterIsNotTheSyncReply() {
        // Junk after the delimiter also spoils it: only a message right after 0xFF counts.
        let agent = ScriptedAgent { _ in [.text(#"{"return": 42}"#), .bytes([0xFF]), .text("x"), .text(#"{"return": 42}"#)] }
        let error = Self.failure { _ = try agent.session().execute(Request("guest-ping"), options: Self.options(sync: .seconds(1))) }
        #expect(error?.code == .notResponding)
        #expect(agent.commands == ["guest-sync-delimited"])
    }

    @Test func eventsBetweenTheDelimiterAndTheSyncReplyAreSkipped() throws {
        // An event is no reply: the delimiter before it still stands for the reply after it.
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text(#"{"return": {"fresh": true}}"# + "\n")] })
        let events = ScriptedAgent { request in
            guard request["execute"] == "guest-sync-delimited" else { return [.text(#"{"return": {"fresh": true}}"# + "\n")] }
            return [.bytes([0xFF]), .text(#"{"event": "A"}"# + "\n" + #"{"event": "B", "data": {}}"#), .text(#"{"return": 42}"# + "\n")]
        }
        for scripted in [agent, events] {
            let reply = try scripted.session().execute(Request("guest-ping"), options: Self.options(sync: .seconds(1)))
            #expect(Self.text(reply) == #"{"return": {"fresh": true}}"#)
            #expect(scripted.clock.elapsed == .zero)
        }
    }

    // MARK: Split reads

    static let sync: [UInt8] = [0xFF] + Array(#"{"return": 42}"#.utf8) + [0x0A]
    static let reply = Array(#"{"return": {"a": [1, "}{\"", {"b": null}], "c": "q'}{"}}"#.utf8)

    @Test func everySplitOfTheSyncReply() throws {
        for cut in 0...Self.sync.count {
            let agent = ScriptedAgent { request in
                request["execute"] == "guest-sync-delimited"
                    ? [.bytes(Array(Self.sync[..<cut])), .bytes(Array(Self.sync[cut...]))]
                    : [.bytes(Self.reply)]
            }
            let reply = try agent.session().execute(Request("guest-ping"), options: CallOptions())
            #expect(reply?.raw == Self.reply, "sync cut at \(cut)")
        }
    }

    @Test func everyThreeWaySplitOfTheReply() throws {
        let reply = Self.reply
        for first in 0...reply.count {
            for second in first...reply.count {
                let agent = ScriptedAgent(respond: Agent.answering { _ in
                    [.bytes(Array(reply[..<first])), .bytes(Array(reply[first..<second])), .bytes(Array(reply[second...]))]
                })
                let result = try agent.session().execute(Request("guest-ping"), options: CallOptions())
                #expect(result?.raw == reply, "cut at \(first) and \(second)")
            }
        }
    }

    @Test func oneByteReads() throws {
        let agent = ScriptedAgent { request in
            request["execute"] == "guest-sync-delimited"
                ? [.text(#"{"return": 1}"#), .bytes(Self.sync)]
                : [.text(#"{"event": "X"}"#), .bytes(Self.reply)]
        }
        agent.maxRead = 1
        let reply = try agent.session().execute(Request("guest-ping"), options: CallOptions())
        #expect(reply?.raw == Self.reply)
        #expect(agent.reads == agent.delivered)
    }

    // MARK: Timeouts, on virtual time

    @Test func silentAgentTimesOutTheSync() {
        let agent = ScriptedAgent { _ in [] }
        let error = Self.failure { _ = try agent.session().execute(Request("guest-ping"), options: Self.options(sync: .seconds(1))) }
        #expect(error?.code == .notResponding)
        #expect(error?.message == "scripted: the agent did not answer guest-sync-delimited within 1 s")
        #expect(agent.clock.elapsed == .seconds(1))
        // Nothing is queued for an agent that is not listening.
        #expect(agent.commands == ["guest-sync-delimited"])
    }

    @Test func wrongIdsWithoutPauseStillTimeOut() {
        // Every read returns at once, so no read times out: the session must watch the clock.
        let agent = ScriptedAgent { _ in [.endless([0xFF] + Array(#"{"return": 7}"#.utf8) + [0x0A])] }
        agent.readCost = .milliseconds(1)
        let error = Self.failure { _ = try agent.session().execute(Request("guest-ping"), options: Self.options(sync: .seconds(1))) }
        #expect(error?.code == .notResponding)
        #expect(error?.message == "scripted: the agent did not answer guest-sync-delimited within 1 s")
        #expect(agent.clock.elapsed == .seconds(1))
    }

    @Test func silenceAfterTheSyncTimesOutTheCommand() {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [] })
        let error = Self.failure {
            _ = try agent.session().execute(Request("guest-info"), options: Self.options(sync: .seconds(1), timeout: .milliseconds(1500)))
        }
        #expect(error?.code == .notResponding)
        #expect(error?.message == "scripted: the agent did not answer guest-info within 1.5 s")
        #expect(agent.clock.elapsed == .milliseconds(1500))
    }

    @Test func commandTimeoutDefaultsByKindOfCommand() {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [] })
        let error = Self.failure { _ = try agent.session().execute(Request("guest-info"), options: CallOptions()) }
        #expect(error?.message == "scripted: the agent did not answer guest-info within 30 s")
        #expect(agent.clock.elapsed == .seconds(30))
    }

    @Test func replyJustBeforeTheDeadlineArrives() throws {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.pause(.milliseconds(900)), .text(#"{"return": {}}"#)] })
        let reply = try agent.session().execute(Request("guest-info"), options: Self.options(timeout: .seconds(1)))
        #expect(Self.text(reply) == #"{"return": {}}"#)
        #expect(agent.clock.elapsed == .milliseconds(900))
    }

    @Test func replyAfterTheDeadlineIsTooLate() {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.pause(.milliseconds(1100)), .text(#"{"return": {}}"#)] })
        let error = Self.failure { _ = try agent.session().execute(Request("guest-info"), options: Self.options(timeout: .seconds(1))) }
        #expect(error?.code == .notResponding)
        #expect(agent.clock.elapsed == .seconds(1))
    }

    // MARK: The reply cap

    @Test func replyOverTheCapIsRefusedWithoutReadingItAll() {
        let cap = 1 << 20
        let agent = ScriptedAgent(respond: Agent.answering { _ in
            [.text(#"{"return": ""#), .endless([UInt8](repeating: UInt8(ascii: "A"), count: 4096))]
        })
        let error = Self.failure {
            _ = try agent.session(maxReplySize: cap).execute(
                Request("guest-file-read", arguments: ["handle": 1]), options: Self.options(maxReplySize: cap))
        }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "scripted: the reply is larger than 1048576 bytes (raise the cap with --max-reply-size)")
        // Refused once past the cap, not after reading the endless rest.
        #expect(agent.delivered < cap + (64 << 10))
    }

    @Test func theCallsCapWinsOverTheSessions() throws {
        let big = Array(#"{"return": ""#.utf8) + [UInt8](repeating: UInt8(ascii: "A"), count: 2048) + Array("\"}".utf8)
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.bytes(big)] })
        let session = agent.session()
        let refused = Self.failure { _ = try session.execute(Request("guest-ping"), options: Self.options(maxReplySize: 1024)) }
        #expect(refused?.code == .protocolViolation)
        let reply = try session.execute(Request("guest-ping"), options: Self.options(maxReplySize: 4096))
        #expect(reply?.raw == big)
    }

    // MARK: Agents without guest-sync-delimited

    static func oldAgent(answering command: [Output]) -> ScriptedAgent {
        ScriptedAgent { request in
            switch request["execute"]?.string {
            case "guest-sync-delimited":
                [.text(#"{"error": {"class": "CommandNotFound", "desc": "The command guest-sync-delimited has not been found"}}"#)]
            case "guest-sync": [Agent.plainSync(request)]
            default: command
            }
        }
    }

    @Test func fallsBackToGuestSyncForOldAgents() throws {
        let agent = Self.oldAgent(answering: [.text(#"{"return": {"old": true}}"#)])
        let reply = try agent.session().execute(Request("guest-ping"), options: CallOptions())
        #expect(Self.text(reply) == #"{"return": {"old": true}}"#)
        #expect(agent.commands == ["guest-sync-delimited", "guest-sync", "guest-ping"])
        #expect(agent.requests.compactMap { $0["arguments"]?["id"] } == [42, 42])
    }

    @Test func silenceAfterTheFallbackNamesGuestSync() {
        let agent = ScriptedAgent { request in
            request["execute"] == "guest-sync-delimited"
                ? [.text(#"{"error": {"class": "CommandNotFound", "desc": "The command guest-sync-delimited has been disabled for this instance"}}"#)]
                : []
        }
        let error = Self.failure { _ = try agent.session().execute(Request("guest-ping"), options: Self.options(sync: .seconds(2))) }
        #expect(error?.message == "scripted: the agent did not answer guest-sync within 2 s")
        #expect(agent.commands == ["guest-sync-delimited", "guest-sync"])
    }

    @Test func anotherMissingCommandIsNoReasonToFallBack() {
        // A stale error for some other client's command says nothing about the sync.
        let agent = ScriptedAgent { _ in
            [.text(#"{"error": {"class": "CommandNotFound", "desc": "The command guest-exec has not been found"}}"#)]
        }
        let error = Self.failure { _ = try agent.session().execute(Request("guest-ping"), options: Self.options(sync: .seconds(1))) }
        #expect(error?.code == .notResponding)
        #expect(agent.commands == ["guest-sync-delimited"])
    }

    // MARK: Commands that reply only on failure

    @Test func noReplyCommandSucceedsOnSilence() throws {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [] })
        let reply = try agent.session().execute(Request("guest-shutdown", arguments: ["mode": "powerdown"]), options: CallOptions())
        #expect(reply == nil)
        #expect(agent.clock.elapsed == CallOptions.noReplyGrace)
    }

    @Test func noReplyCommandSucceedsWhenTheChannelCloses() throws {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.close] })
        let reply = try agent.session().execute(Request("guest-shutdown"), options: CallOptions())
        #expect(reply == nil)
        #expect(agent.clock.elapsed == .zero)
    }

    @Test func noReplyCommandFailsOnAnErrorReply() {
        let agent = ScriptedAgent(respond: Agent.answering { _ in
            [.pause(.seconds(1)), .text(#"{"error": {"class": "CommandNotFound", "desc": "Command guest-shutdown has been disabled"}}"#)]
        })
        let error = Self.failure { _ = try agent.session().call("guest-shutdown") }
        #expect(error?.code == .agentError(AgentError(errorClass: "CommandNotFound", desc: "Command guest-shutdown has been disabled")))
    }

    @Test func noReplyCommandFailsOnJunk() {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text("oops\n")] })
        let error = Self.failure { _ = try agent.session().execute(Request("guest-shutdown"), options: CallOptions()) }
        #expect(error?.code == .protocolViolation)
    }

    // MARK: Broken replies

    @Test func brokenRepliesAreProtocolViolations() {
        let depth = 2000
        let cases: [([UInt8], String)] = [
            (Array("this is not JSON\n".utf8), #"scripted: the agent sent 4 bytes that are not JSON: "this""#),
            (Array(#"{"return": [1, 2,]}"#.utf8), "scripted: malformed reply"),
            (Array(#"{"surprise": 1}"#.utf8), "scripted: malformed reply"),
            (Array("[1, 2]".utf8), "scripted: malformed reply"),
            (Array(#"{"return":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), "UTF-8"),
            (Array(#"{"return": "#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: depth)
                + [UInt8](repeating: UInt8(ascii: "]"), count: depth) + Array("}".utf8), "deeper than 1024"),
        ]
        for (reply, expected) in cases {
            let agent = ScriptedAgent(respond: Agent.answering { _ in [.bytes(reply)] })
            let error = Self.failure { _ = try agent.session().execute(Request("guest-ping"), options: CallOptions()) }
            #expect(error?.code == .protocolViolation, "\(expected)")
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error"), expected \(expected)")
        }
    }

    @Test func closedInTheMiddleOfAReply() {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text(#"{"return": {"a": "#), .close] })
        let error = Self.failure { _ = try agent.session().execute(Request("guest-info"), options: CallOptions()) }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "scripted: the agent closed the connection in the middle of a reply")
    }

    @Test func closedBeforeAnyReplyIsUnreachable() {
        let agent = ScriptedAgent { _ in [.close] }
        let error = Self.failure { _ = try agent.session().execute(Request("guest-info"), options: CallOptions()) }
        #expect(error?.code == .unreachable)
    }

    @Test func cancelledSessionFailsAtOnce() {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text(#"{"return": {}}"#)] })
        let session = agent.session()
        session.cancel()
        let error = Self.failure { _ = try session.execute(Request("guest-ping"), options: CallOptions()) }
        #expect(error?.code == .unreachable)
        #expect(agent.requests.isEmpty)
    }

    // MARK: Request ids

    @Test func replyEchoingAnotherIdIsSkipped() throws {
        let agent = ScriptedAgent(respond: Agent.answering { _ in
            [.text(#"{"error": {"class": "GenericError", "desc": "not yours"}, "id": "other"}"#),
             .text(#"{"return": {"who": "stale"}, "id": "other"}"# + "\n" + #"{"return": {"who": "me"}, "id": "mine"}"#)]
        })
        let reply = try agent.session().execute(Request("guest-ping", id: "mine"), options: CallOptions())
        #expect(reply?.incoming == .success(["who": "me"], id: "mine"))
        #expect(agent.requests.last?["id"] == "mine")
    }

    @Test func replyWithoutAnIdIsAcceptedFromOldAgents() throws {
        // Agents older than QEMU 4.0 echo no id.
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text(#"{"return": {"who": "old agent"}}"#)] })
        let reply = try agent.session().execute(Request("guest-ping", id: 7), options: CallOptions())
        #expect(reply?.incoming == .success(["who": "old agent"], id: nil))
    }

    @Test func requestWithoutAnIdTakesTheNextReply() throws {
        let agent = ScriptedAgent(respond: Agent.answering { _ in [.text(#"{"return": {"who": "any"}, "id": "x"}"#)] })
        let reply = try agent.session().execute(Request("guest-ping"), options: CallOptions())
        #expect(reply?.incoming == .success(["who": "any"], id: "x"))
    }
}
