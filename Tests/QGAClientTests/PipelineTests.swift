@testable import QGAClient
import QGAProtocol
import QGASystem
import Testing

/// `AgentPipeline` in-process, against a scripted agent on virtual time: one sync for many
/// requests, replies taken in order and matched by id, strays dropped, a dropped reply caught
/// at once, a stall that drops the pipeline to one request at a time without resending, and
/// a failure part way.
@Suite struct PipelineTests {
    /// `{"return": {"count": N}, "id": ID}` for a guest-file-write request, echoing its id.
    static func written(_ request: JSONValue, count: Int = 4, id: JSONValue? = nil) -> Output {
        .text(#"{"return": {"count": \#(count)}, "id": \#(id ?? request["id"] ?? .null)}"# + "\n")
    }

    static func write(_ n: Int) -> Request {
        Request("guest-file-write", arguments: ["handle": 7, "buf-b64": .string("AAAA\(n)")])
    }

    /// The `n` in each write's buf-b64, in the order the agent received them.
    static func payloads(_ agent: ScriptedAgent) -> [String] {
        agent.requests.filter { $0["execute"] == "guest-file-write" }.compactMap { $0["arguments"]?["buf-b64"]?.string }
    }

    @Test func oneSyncThenRequestsBackToBackRepliesInOrder() throws {
        let agent = ScriptedAgent(respond: Agent.answering { [Self.written($0)] })
        let pipeline = try agent.session().pipeline(options: CallOptions(), depth: 3)
        var taken: [JSONValue?] = []
        for n in 1...5 {
            try pipeline.send(Self.write(n)) { taken.append($0.incoming.id) }
            #expect(pipeline.inFlight <= 3)
        }
        try pipeline.drain { taken.append($0.incoming.id) }
        #expect(taken == [1, 2, 3, 4, 5])
        #expect(agent.commands == ["guest-sync-delimited"] + Array(repeating: "guest-file-write", count: 5))
        #expect(agent.requests.dropFirst().map { $0["id"] } == [1, 2, 3, 4, 5])
        #expect(!pipeline.stalled)
        // Only the sync ends in a newline: nothing trails the last request (qemu-ga could
        // still hold it when answering, and drop the reply).
        #expect(agent.received.filter { $0 == 0x0A }.count == 1)
        #expect(agent.received.last == UInt8(ascii: "}"))
    }

    @Test func aReplyToALaterRequestMeansTheAgentDroppedTheOlderOne() throws {
        // qemu-ga over virtio-serial carries out the first write but loses its reply.
        let agent = ScriptedAgent(respond: Agent.answering { request in request["id"] == 1 ? [] : [Self.written(request)] })
        let pipeline = try agent.session().pipeline(options: CallOptions(), depth: 2, stallPatience: .seconds(2))
        try pipeline.send(Self.write(1))
        try pipeline.send(Self.write(2))
        let error = AgentSessionTests.failure { try pipeline.drain { _ in } }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "scripted: the agent dropped its reply to guest-file-write (it answered a later request)")
        // At once, not at the stall patience or the deadline.
        #expect(agent.clock.elapsed == .zero)
    }

    @Test func strayRepliesAreDroppedAndReplyWithoutIdTakenByOrder() throws {
        let agent = ScriptedAgent(respond: Agent.answering { request in
            if request["id"] == 1 {
                // An event, a reply echoing an id nobody sent, then the reply.
                return [.text(#"{"event": "X"}"# + "\n"), Self.written(request, count: 99, id: 77), Self.written(request, count: 1)]
            }
            // An agent older than QEMU 4.0 echoes no id.
            return [.text(#"{"return": {"count": 2}}"# + "\n")]
        })
        let pipeline = try agent.session().pipeline(options: CallOptions(), depth: 2)
        try pipeline.send(Self.write(1))
        try pipeline.send(Self.write(2))
        var counts: [JSONValue?] = []
        try pipeline.drain { reply in
            if case .success(let value, _) = reply.incoming { counts.append(value["count"]) }
        }
        #expect(counts == [1, 2])
    }

    @Test func stalledWriteIsWaitedForThenOneAtATime() throws {
        let agent = ScriptedAgent(respond: Agent.answering { request in
            // The second write's reply comes after 10 s: past the patience, within the deadline.
            request["id"] == 2 ? [.pause(.seconds(10)), Self.written(request)] : [Self.written(request)]
        })
        let pipeline = try agent.session().pipeline(options: CallOptions(), depth: 2, stallPatience: .seconds(2))
        var taken: [JSONValue?] = []
        for n in 1...5 {
            try pipeline.send(Self.write(n)) { taken.append($0.incoming.id) }
            if n >= 4 { #expect(pipeline.inFlight == 1) }
        }
        try pipeline.drain { taken.append($0.incoming.id) }
        #expect(pipeline.stalled)
        #expect(pipeline.depth == 1)
        #expect(taken == [1, 2, 3, 4, 5])
        // Every write sent exactly once, in order: nothing resent.
        #expect(Self.payloads(agent) == (1...5).map { "AAAA\($0)" })
        #expect(agent.clock.elapsed == .seconds(10))
    }

    @Test func slowReplyWithNothingBehindItIsNoStall() throws {
        let agent = ScriptedAgent(respond: Agent.answering { [.pause(.seconds(10)), Self.written($0)] })
        let pipeline = try agent.session().pipeline(options: CallOptions(), depth: 2, stallPatience: .seconds(2))
        try pipeline.send(Self.write(1))
        try pipeline.drain { _ in }
        #expect(!pipeline.stalled)
    }

    @Test func eachReplyKeepsItsOwnDeadline() throws {
        // Each reply takes 20 s of a 30 s timeout: 60 s for three, and none times out,
        // since a reply's time counts from the one before it.
        let agent = ScriptedAgent(respond: Agent.answering { [.pause(.seconds(20)), Self.written($0)] })
        let pipeline = try agent.session().pipeline(options: AgentSessionTests.options(timeout: .seconds(30)), depth: 3)
        for n in 1...3 { try pipeline.send(Self.write(n)) }
        try pipeline.drain { _ in }
        #expect(agent.clock.elapsed == .seconds(60))

        let silent = ScriptedAgent(respond: Agent.answering { _ in [] })
        let stuck = try silent.session().pipeline(options: AgentSessionTests.options(timeout: .seconds(30)), depth: 3)
        try stuck.send(Self.write(1))
        let error = AgentSessionTests.failure { try stuck.drain { _ in } }
        #expect(error?.code == .notResponding)
        #expect(error?.message == "scripted: the agent did not answer guest-file-write within 30 s")
        #expect(silent.clock.elapsed == .seconds(30))
    }

    @Test func failurePartWayStopsSendingAndTheNextCallSyncsPastIt() throws {
        let agent = ScriptedAgent(respond: Agent.answering { request in
            switch request["execute"]?.string {
            case "guest-file-write" where request["id"] == 2:
                return [.text(#"{"error": {"class": "GenericError", "desc": "No space left on device"}, "id": 2}"# + "\n")]
            case "guest-file-write": return [Self.written(request)]
            default: return [.text(#"{"return": {}}"# + "\n")]
            }
        })
        let session = agent.session()
        let pipeline = try session.pipeline(options: CallOptions(), depth: 2)
        var failure: AgentError?
        do {
            for n in 1...5 {
                try pipeline.send(Self.write(n)) { reply in
                    if case .failure(let error, _) = reply.incoming { throw error }
                }
            }
        } catch let error as AgentError {
            failure = error
        }
        #expect(failure?.desc == "No space left on device")
        // Write 3 was in flight when write 2's error came; nothing after it was sent.
        #expect(Self.payloads(agent) == ["AAAA1", "AAAA2", "AAAA3"])
        // The close syncs again, and write 3's reply, still unread, is dropped.
        let reply = try session.execute(Request("guest-file-close", arguments: ["handle": 7]), options: CallOptions())
        #expect(AgentSessionTests.text(reply) == #"{"return": {}}"#)
        #expect(agent.commands.suffix(2) == ["guest-sync-delimited", "guest-file-close"])
    }
}
