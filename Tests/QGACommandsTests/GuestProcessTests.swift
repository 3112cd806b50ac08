import QGAClient
import QGAProtocol
import QGASystem
import Testing

@testable import QGACommands

/// A connection that answers each request with the next of `replies` (JSON text), and
/// records the requests.
private final class SequencedConnection: AgentConnection {
    var requests: [Request] = []
    var replies: [String]
    var label: String { "sequenced" }

    init(_ replies: [String]) { self.replies = replies }

    func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
        requests.append(request)
        guard !replies.isEmpty else { throw ClientError(.protocolViolation, "unexpected \(request.execute)") }
        let raw = Array(replies.removeFirst().utf8)
        do { return Reply(incoming: try Incoming(JSONParser.parse(raw)), raw: raw) } catch {
            throw ClientError(.protocolViolation, error.message)
        }
    }
}

private func status(_ json: String) throws -> JSONObject {
    guard let object = try JSONParser.parse(Array(json.utf8)).object else { throw ClientError(.protocolViolation, "not an object") }
    return object
}

/// The one guest-exec runner, in process: the request it sends, the polling, and how a
/// status reply becomes an exit status and output.
@Suite struct GuestProcessTests {
    @Test(arguments: [
        (#"{"exited": true, "exitcode": 0}"#, Int32(0)),
        (#"{"exited": true, "exitcode": 255}"#, 255),
        (#"{"exited": true, "signal": 9}"#, 137),
        (#"{"exited": true, "signal": 127}"#, 255),
        // A signal wins over an exit code, as qemu-ga sends only one of them.
        (#"{"exited": true, "exitcode": 3, "signal": 15}"#, 143),
    ])
    func statusBecomesAShellsExitStatus(_ json: String, _ code: Int32) throws {
        #expect(try GuestProcess.exitCode(status(json), label: "vm") == code)
    }

    @Test(arguments: [
        (#"{"exited": true, "exitcode": 256}"#, "vm: guest-exec-status reports exit code 256"),
        (#"{"exited": true, "exitcode": -1}"#, "vm: guest-exec-status reports exit code -1"),
        (#"{"exited": true, "signal": 0}"#, "vm: guest-exec-status reports signal 0"),
        (#"{"exited": true, "signal": 128}"#, "vm: guest-exec-status reports signal 128"),
        (#"{"exited": true, "signal": 9223372036854775807}"#, "vm: guest-exec-status reports signal 9223372036854775807"),
        (#"{"exited": true}"#, "vm: guest-exec-status reports neither an exit code nor a signal"),
        (#"{"exited": true, "exitcode": "0"}"#, "vm: guest-exec-status reports neither an exit code nor a signal"),
    ])
    func impossibleStatusesAreTheAgentsError(_ json: String, _ message: String) throws {
        let object = try status(json)
        let error = #expect(throws: ClientError.self) { try GuestProcess.exitCode(object, label: "vm") }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == message)
    }

    @Test func outputIsDecodedAndCheckedAsBase64() throws {
        let ended = try GuestProcess.Ended(status(#"{"exited": true, "exitcode": 1, "out-data": "aGk=", "err-data": "bm8gc3VjaApmaWxl"}"#), label: "vm")
        #expect(ended.code == 1)
        #expect(ended.stdout == Array("hi".utf8))
        #expect(ended.said == "no such; file")
        #expect(try GuestProcess.output(status(#"{"exited": true}"#), "out-data", label: "vm") == nil)
        let bad = try status(#"{"exited": true, "exitcode": 0, "err-data": "!!"}"#)
        let error = #expect(throws: ClientError.self) { try GuestProcess.Ended(bad, label: "vm") }
        #expect(error?.message == "vm: guest-exec-status's err-data is not base64")
    }

    @Test func startSendsTheCommandAndPollsUntilItExits() throws {
        let connection = SequencedConnection([
            #"{"return": {"pid": 42}}"#,
            #"{"return": {"exited": false}}"#,
            #"{"return": {"exited": false}}"#,
            #"{"return": {"exited": true, "exitcode": 0, "out-data": "b2s="}}"#,
        ])
        let process = GuestProcess(connection: connection, options: CallOptions())
        let pid = try process.start(["/bin/cat", "-"], environment: ["A=1"], input: Array("ok".utf8))
        #expect(pid == 42)
        let status = try process.wait(pid, deadline: nil)
        #expect(try status.map { try GuestProcess.Ended($0, label: "vm").stdout } == Array("ok".utf8))
        #expect(connection.requests.map(\.execute) == ["guest-exec", "guest-exec-status", "guest-exec-status", "guest-exec-status"])
        let start = connection.requests.first.map { String(decoding: $0.encoded, as: UTF8.self) }
        #expect(start == #"{"execute":"guest-exec","arguments":{"path":"/bin/cat","arg":["-"],"env":["A=1"],"input-data":"b2s=","capture-output":true}}"#)
        #expect(connection.requests.dropFirst().allSatisfy { $0.arguments == ["pid": .number(JSONNumber(42))] })
    }

    @Test func aPassedDeadlineEndsTheWaitWithoutAStatus() throws {
        let connection = SequencedConnection([#"{"return": {"pid": 7}}"#, #"{"return": {"exited": false}}"#])
        let process = GuestProcess(connection: connection, options: CallOptions())
        let pid = try process.start(GuestProcess.shell("sleep 9", []))
        #expect(pid == 7)
        #expect(try process.wait(pid, deadline: Deadline.after(seconds: 0)) == nil)
        #expect(connection.requests.count == 2)
    }

    @Test func aStartWithoutAPidIsTheAgentsError() throws {
        let process = GuestProcess(connection: SequencedConnection([#"{"return": {}}"#]), options: CallOptions())
        let error = #expect(throws: ClientError.self) { try process.start(["/bin/true"]) }
        #expect(error?.message == "sequenced: guest-exec returned an object without a pid")
    }

    /// A wait that fails after the start keeps its message and exit code and names the
    /// guest pid: an agent restarted in between no longer knows it, a lost one cannot say.
    @Test func aLostWaitNamesTheGuestPid() {
        let forgotten = ClientError(.agentError(AgentError(errorClass: "GenericError", desc: "Invalid parameter 'pid'")), "x")
        let restarted = ExitStatus(Run.lostTrack(of: 42, forgotten))
        #expect(restarted.code == ExitCodes.agentError)
        #expect(restarted.message == "qga: GenericError: Invalid parameter 'pid'")
        #expect(restarted.notes == ["qga: the command was guest process 42; qga lost track of it before it exited, so whether it still runs is unknown"])
        let lost = ExitStatus(Run.lostTrack(of: 7, ClientError(.notResponding, "vm1: Guest agent is not responding: QEMU guest agent is not connected")))
        #expect(lost.code == ExitCodes.notResponding)
        #expect(lost.message == "qga: vm1: Guest agent is not responding: QEMU guest agent is not connected")
        #expect(lost.notes.count == 1 && lost.notes[0].contains("guest process 7;"))
    }
}
