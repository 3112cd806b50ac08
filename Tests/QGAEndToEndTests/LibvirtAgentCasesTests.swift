import Foundation
import QGAProtocol
import QGATestSupport
import Testing

// The ground that libvirt's own agent tests cover (tests/qemuagenttest.c, read at
// libvirt/libvirt 0274e1b4), and where `qga` covers the same ground. libvirt's tests drive
// its agent client against a scripted monitor; ours drive the `qga` binary against a fake
// agent on a socket (FakeAgent), real agents (AgentProcess) or the VM test bed.
//
//   FSFreeze      freeze with mount points (freeze-list) and without; the count
//                 -> freezeAndThawPrintTheAgentsCount (here); VMAgentTests.freezeBlocksGuestWritesUntilThaw
//   FSThaw        thaw's count -> freezeAndThawPrintTheAgentsCount (here)
//   FSTrim        `minimum` passed on -> MoreQueryTests.fstrimTableAndMinimum,
//                 NewQueryFormattingTests.fstrimTableAndMinimum
//   GetFSInfo     parsing the disks; a CommandDisabled error fails the call
//                 -> DiskInfoTests, VMDiskTests; QueryTests.disabledCommandKeepsTheAgentsError
//   Suspend       ram, disk, hybrid, each its own command -> MoreQueryTests.suspend,
//                 NewQueryFormattingTests.suspendSendsTheModesCommand; that they expect no
//                 reply -> lifecycleRequestsExpectNoReply (here)
//   Shutdown      halt, powerdown, reboot send guest-shutdown with that mode and get no
//                 reply (an event instead); an error reply (CommandDisabled) still fails
//                 -> lifecycleRequestsExpectNoReply, lifecycleErrorRepliesAreReported (here);
//                 through libvirt -> noReplyCommandsThroughLibvirt (here);
//                 MisbehavingAgentTests.noReplyCommandSucceedsOnSilence / ...WhenTheChannelCloses
//   CPU           get-vcpus parsing; set-vcpus arguments and an error reply
//                 -> QueryTests, ConformanceTests, DifferentialTests (vcpus);
//                 RequestBuilderTests (guest-set-vcpus arguments checked before sending)
//   ArbitraryCommand  the reply passed on verbatim -> HostileOutputTests.rawIsExactIntoAPipe,
//                 OutputTests.rawPrintsErrorRepliesToo
//   Timeout       no sync reply: the call fails; a sync reply and then silence: the call
//                 times out -> MisbehavingAgentTests.silenceTimesOutWithinTheSyncTimeout,
//                 .silenceAfterTheSyncTimesOutWithinTheCommandTimeout; and that the agent
//                 serves the next client -> timeoutsLeaveTheAgentUsable (here)
//   GetInterfaces, Users, OSInfo, Timezone  parsing -> QueryTests, DifferentialTests,
//                 VMEverydayTests
//
// What libvirt's agent client does beyond that file (qemu_agent.c), covered here too:
//   a reply to another request (wrong id) -> OutputTests.replyWithAnotherIdIsSkippedAndOneWithoutIdIsAccepted,
//       MisbehavingAgentTests.wrongIdsForeverTimeOut
//   a sync reply that arrives late, after the client gave up on it and the next sync was
//       sent -> aLateSyncReplyIsSkippedByTheNextClient, aLateSyncReplyIsSkippedByWait (here)
//   a late reply to an earlier client's command -> aLateCommandReplyIsDroppedByTheNextSync (here)
//   an agent that answers the sync and then goes silent, also in the middle of a copy
//       -> timeoutsLeaveTheAgentUsable, silenceInTheMiddleOfACopyFromTheGuest,
//       silenceInTheMiddleOfACopyIntoTheGuest (here)
//   events before, between and inside the exchanges of a call -> eventsBetweenTheDelimiterAndTheSyncReply,
//       eventsAroundEveryReplyOfACopy (here); MisbehavingAgentTests.discardsStaleRepliesBeforeTheSync
//   the 10 MiB line limit (QEMU_AGENT_MAX_RESPONSE), after which libvirt refuses the
//       domain's agent until it reconnects -> VMAgentTests.largeReadsThroughLibvirtAreRefusedBeforeSending,
//       VMEverydayTests.runLargeOutputThroughLibvirt and copyBothWaysKeepsTheBytes (cp sizes its
//       reads through libvirt to stay under 4 MiB: ChunkSizes.forConnection)
@Suite struct LibvirtAgentCasesTests {
    /// A delimited sync reply: 0xFF, then `{"return": id}`.
    static func syncReply(_ id: JSONValue) -> [UInt8] {
        [0xFF] + Array(#"{"return": \#(id)}"#.utf8) + [0x0A]
    }

    /// Counts the connections a fake agent accepts, from 1.
    final class Counter: Sendable {
        private let count = Mutex(0)
        func next() -> Int { count.withLock { $0 += 1; return $0 } }
    }

    // MARK: Late replies

    /// An agent that leaves its first connection's sync unanswered and, on every later
    /// connection, sends the answer to that sync (held back, as on a virtio-serial channel
    /// where it waits in the channel) in front of the answer to the new one; then it answers
    /// guest-ping with `reply`. The ids it held back are in `late`.
    struct LateSyncAgent {
        let agent: FakeAgent
        let late = Mutex<[JSONValue]>([])

        init(reply: String) throws {
            let counter = Counter()
            let late = late
            agent = try FakeAgent { connection in
                let number = counter.next()
                guard let id = connection.nextRequest()?["arguments"]?["id"] else { return }
                if number == 1 {
                    late.withLock { $0.append(id) }
                    connection.stall(20)
                    return
                }
                for held in late.withLock({ $0 }) { connection.send(LibvirtAgentCasesTests.syncReply(held)) }
                connection.send(LibvirtAgentCasesTests.syncReply(id))
                guard connection.nextRequest()?["execute"] == "guest-ping" else { return }
                connection.send(reply + "\n")
            }
        }
    }

    /// The first client gives up on its sync; the agent's answer to it arrives only after
    /// the next client's sync was sent. The next client skips it.
    @Test func aLateSyncReplyIsSkippedByTheNextClient() throws {
        let late = try LateSyncAgent(reply: #"{"return": {"fresh": true}}"#)
        let first = try Binaries.qga(["exec", late.agent.socketPath, "guest-ping", "--sync-timeout", "0.5"])
        #expect(first.status == 3, "\(first)")
        #expect(first.seconds < 3, "\(first)")
        #expect(first.stderr.contains("did not answer guest-sync-delimited within 0.5 s"), "\(first)")
        #expect(late.late.withLock { $0.count } == 1)

        let second = try Binaries.qga(["exec", late.agent.socketPath, "guest-ping", "--compact"])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdoutText == #"{"fresh":true}"# + "\n")
    }

    /// `qga wait` tries again after a sync that timed out; the late answer to that sync
    /// comes in front of the answer to the next one, which is the one that counts.
    @Test func aLateSyncReplyIsSkippedByWait() throws {
        let late = try LateSyncAgent(reply: #"{"return": {}}"#)
        let result = try Binaries.qga(["wait", late.agent.socketPath, "--timeout", "20", "--sync-timeout", "0.5"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        #expect(late.late.withLock { $0.count } == 1)
    }

    /// The first client's command times out; its reply (no id: qemu-ga echoes only ids it
    /// was given) arrives before the next client's sync reply, as it must on a channel the
    /// agent serves in order. The sync drops it and the next client gets its own reply.
    @Test func aLateCommandReplyIsDroppedByTheNextSync() throws {
        let counter = Counter()
        let agent = try FakeAgent { connection in
            let number = counter.next()
            guard let id = connection.nextRequest()?["arguments"]?["id"] else { return }
            if number == 1 {
                connection.send(Self.syncReply(id))
                _ = connection.nextRequest()
                connection.stall(20)
                return
            }
            connection.send(#"{"return": {"late": "reply to the first client"}}"# + "\n")
            connection.send(Self.syncReply(id))
            _ = connection.nextRequest()
            connection.send(#"{"return": {"fresh": true}}"# + "\n")
        }
        let first = try Binaries.qga(["exec", agent.socketPath, "guest-info", "--timeout", "0.5"])
        #expect(first.status == 3, "\(first)")
        #expect(first.stderr.contains("did not answer guest-info within 0.5 s"), "\(first)")
        let second = try Binaries.qga(["exec", agent.socketPath, "guest-info", "--compact"])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdoutText == #"{"fresh":true}"# + "\n")
    }

    // MARK: Silence

    /// libvirt's Timeout case: no answer to the sync, then a sync answered and the command
    /// not; each fails with exit 3 within its deadline, and the agent serves the next client.
    @Test func timeoutsLeaveTheAgentUsable() throws {
        let counter = Counter()
        let agent = try FakeAgent { connection in
            switch counter.next() {
            case 1:
                connection.stall(20)
            case 2:
                connection.answerSync()
                _ = connection.nextRequest()
                connection.stall(20)
            default:
                connection.answerSync()
                _ = connection.nextRequest()
                connection.send(#"{"return": {"fresh": true}}"# + "\n")
            }
        }
        let noSync = try Binaries.qga(["exec", agent.socketPath, "guest-fsfreeze-status", "--sync-timeout", "0.5"])
        #expect(noSync.status == 3 && noSync.seconds < 3, "\(noSync)")
        #expect(noSync.stderr.contains("did not answer guest-sync-delimited"), "\(noSync)")
        let noReply = try Binaries.qga(["exec", agent.socketPath, "guest-fsfreeze-status", "--timeout", "0.5"])
        #expect(noReply.status == 3 && noReply.seconds < 3, "\(noReply)")
        #expect(noReply.stderr.contains("did not answer guest-fsfreeze-status within 0.5 s"), "\(noReply)")
        let later = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--compact"])
        #expect(later.status == 0 && later.stdoutText == #"{"fresh":true}"# + "\n", "\(later)")
    }

    /// An agent that answers the sync and the open, then goes silent at the first read or
    /// write of `first` connections' copies, and answers everything after.
    static func silentMidCopy(connections first: Int) throws -> FakeAgent {
        let counter = Counter()
        return try FakeAgent { connection in
            let silent = counter.next() <= first
            while let request = connection.nextRequest() {
                switch request["execute"]?.string {
                case "guest-sync-delimited":
                    guard let id = request["arguments"]?["id"] else { return }
                    connection.send(Self.syncReply(id))
                case "guest-file-open":
                    connection.send(#"{"return": 1000}"# + "\n")
                case "guest-file-read" where silent, "guest-file-write" where silent:
                    connection.stall(20)
                    return
                default:
                    connection.send(#"{"return": {}}"# + "\n")
                }
            }
        }
    }

    /// Silence in the middle of a pipelined copy out of the guest: qga gives up at --timeout
    /// (exit 3); closing the handle afterwards waits no longer than that either (it waited
    /// out a whole --sync-timeout, 5 s, before); the agent serves the next command.
    @Test func silenceInTheMiddleOfACopyFromTheGuest() throws {
        let agent = try Self.silentMidCopy(connections: 1)
        let copy = try Binaries.qga(["cat", agent.socketPath + ":/stalls", "--timeout", "1"])
        #expect(copy.status == 3, "\(copy)")
        #expect(copy.seconds < 4, "\(copy) \(copy.stderr)")
        #expect(copy.stderr == "qga: \(agent.socketPath): the agent did not answer guest-file-read within 1 s\n", "\(copy)")
        let later = try Binaries.qga(["ping", agent.socketPath])
        #expect(later.status == 0, "\(later)")
    }

    /// The same in a copy into the guest, whose cleanup also tries to remove the partial
    /// file (through guest-exec) and, when that gets no answer, says it is left partial.
    @Test func silenceInTheMiddleOfACopyIntoTheGuest() throws {
        let agent = try Self.silentMidCopy(connections: 1)
        let host = try TemporaryDirectory("qga-silent-cp")
        defer { host.remove() }
        #expect(FileManager.default.createFile(atPath: host.path + "/in", contents: Data(repeating: 0x61, count: 100_000)))
        let copy = try Binaries.qga(["cp", host.path + "/in", agent.socketPath + ":/stalls", "--timeout", "1"])
        #expect(copy.status == 3, "\(copy)")
        #expect(copy.seconds < 6, "\(copy) \(copy.stderr)")
        #expect(copy.stderr.hasPrefix("qga: \(agent.socketPath): the agent did not answer guest-file-write within 1 s\n"), "\(copy)")
        #expect(copy.stderr.contains("/stalls in the guest is left partial"), "\(copy)")
    }

    // MARK: Commands without a reply

    /// qga's lifecycle commands, the guest-* command each sends, and its mode.
    static let lifecycle: [(arguments: [String], command: String, mode: String?)] = [
        (["shutdown"], "guest-shutdown", "powerdown"),
        (["shutdown", "--mode", "halt"], "guest-shutdown", "halt"),
        (["shutdown", "--mode", "reboot"], "guest-shutdown", "reboot"),
        (["reboot"], "guest-shutdown", "reboot"),
        (["suspend", "ram"], "guest-suspend-ram", nil),
        (["suspend", "disk"], "guest-suspend-disk", nil),
        (["suspend", "hybrid"], "guest-suspend-hybrid", nil),
    ]

    /// As libvirt's Shutdown case: the request goes out with its mode and the agent never
    /// replies, sending an event instead (libvirt's test agent notifies SHUTDOWN or RESET);
    /// qga counts silence as success, within the no-reply grace, and the agent serves the
    /// next command.
    @Test(arguments: 0..<lifecycle.count)
    func lifecycleRequestsExpectNoReply(_ index: Int) throws {
        let (arguments, command, mode) = Self.lifecycle[index]
        let requests = Mutex<[JSONValue]>([])
        let agent = try FakeAgent { connection in
            while connection.answerSync() != nil {
                guard let request = connection.nextRequest() else { return }
                requests.withLock { $0.append(request) }
                if request["execute"] == "guest-ping" {
                    connection.send(#"{"return": {}}"# + "\n")
                } else {
                    connection.send(#"{"event": "\#(mode == "reboot" ? "RESET" : "SHUTDOWN")"}"# + "\n")
                }
            }
        }
        let result = try Binaries.qga(arguments + [agent.socketPath, "--timeout", "0.5"])
        #expect(result.status == 0, "\(arguments): \(result)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(arguments): \(result)")
        #expect(result.seconds < 3, "\(arguments): \(result)")
        let sent = requests.withLock { $0 }
        #expect(sent.first?["execute"]?.string == command, "\(sent)")
        if let mode { #expect(sent.first?["arguments"]?["mode"]?.string == mode, "\(sent)") }

        let ping = try Binaries.qga(["ping", agent.socketPath])
        #expect(ping.status == 0, "\(ping)")
    }

    /// The negative half of libvirt's Shutdown case: an error reply (the command disabled)
    /// fails the call at once, with the agent's error and exit 1, and does not wait out the
    /// grace.
    @Test(arguments: 0..<lifecycle.count)
    func lifecycleErrorRepliesAreReported(_ index: Int) throws {
        let (arguments, command, _) = Self.lifecycle[index]
        let agent = try FakeAgent { connection in
            connection.answerSync()
            guard let request = connection.nextRequest(), let name = request["execute"]?.string else { return }
            connection.send(
                #"{"error": {"class": "CommandDisabled", "desc": "The command \#(name) has been disabled for this instance", "data": {"name": "\#(name)"}}}"#
                    + "\n")
            connection.stall(20)
        }
        let result = try Binaries.qga(arguments + [agent.socketPath])
        #expect(result.status == 1, "\(arguments): \(result)")
        #expect(result.stderr.contains("CommandDisabled: The command \(command) has been disabled"), "\(arguments): \(result)")
        #expect(result.seconds < 2, "\(arguments): \(result)")
    }

    /// Through libvirt, whose timeout reads the same whether its sync or the command went
    /// unanswered ("Guest agent not available for now", up to libvirt 9.x at least): qga
    /// pings first, so an agent that answers nothing fails the call with exit 3 and is never
    /// sent the command (it passed for a success before), and one that answers the ping and
    /// then not the command succeeds, as on a socket.
    @Test(arguments: [["shutdown", "--mode", "halt"], ["suspend", "ram"]])
    func noReplyCommandsThroughLibvirt(_ arguments: [String]) throws {
        let unavailable = "Guest agent is not responding: Guest agent not available for now"
        let absent = try FakeLibvirtd(xml: LibvirtDeadlineTests.xml, agentError: { _ in unavailable }) { _, _ in false }
        let failed = try Binaries.qga(arguments + ["vm", "-c", absent.uri], timeout: 30)
        #expect(failed.status == 3, "\(arguments): \(failed)")
        #expect(failed.stderr.contains("not available for now"), "\(arguments): \(failed)")
        #expect(absent.agentCommands == 1, "only the ping")

        let silent = try FakeLibvirtd(xml: LibvirtDeadlineTests.xml, agentError: { $0 >= 2 ? unavailable : nil }) { _, _ in false }
        let obeyed = try Binaries.qga(arguments + ["vm", "-c", silent.uri], timeout: 30)
        #expect(obeyed.status == 0 && obeyed.stderr.isEmpty, "\(arguments): \(obeyed)")
        #expect(silent.agentCommands == 2, "the ping and the command")
    }

    // MARK: Counts

    /// libvirt's FSFreeze and FSThaw cases: freeze with mount points goes out as
    /// guest-fsfreeze-freeze-list, without as guest-fsfreeze-freeze, and the agent's count is
    /// what qga prints.
    @Test func freezeAndThawPrintTheAgentsCount() throws {
        let requests = Mutex<[JSONValue]>([])
        let agent = try FakeAgent { connection in
            connection.answerSync()
            guard let request = connection.nextRequest() else { return }
            requests.withLock { $0.append(request) }
            let count = switch request["execute"]?.string {
            case "guest-fsfreeze-freeze-list": 5
            case "guest-fsfreeze-freeze": 7
            default: 3
            }
            connection.send(#"{"return": \#(count)}"# + "\n")
        }
        let list = try Binaries.qga(
            ["fsfreeze", "freeze", agent.socketPath] + ["/fs1", "/fs2", "/fs3", "/fs4", "/fs5"].flatMap { ["--mountpoint", $0] })
        #expect(list.status == 0 && list.stdoutText == "5\n", "\(list)")
        let all = try Binaries.qga(["fsfreeze", "freeze", agent.socketPath])
        #expect(all.status == 0 && all.stdoutText == "7\n", "\(all)")
        let thaw = try Binaries.qga(["fsfreeze", "thaw", agent.socketPath])
        #expect(thaw.status == 0 && thaw.stdoutText == "3\n", "\(thaw)")
        let sent = requests.withLock { $0 }
        #expect(sent.map { $0["execute"]?.string ?? "?" } == ["guest-fsfreeze-freeze-list", "guest-fsfreeze-freeze", "guest-fsfreeze-thaw"])
        #expect(sent.first?["arguments"]?["mountpoints"] == ["/fs1", "/fs2", "/fs3", "/fs4", "/fs5"])
    }

    // MARK: Events

    /// An event between the sync's delimiter and its reply is skipped like any other event:
    /// the delimiter still counts for the reply after it.
    @Test func eventsBetweenTheDelimiterAndTheSyncReply() throws {
        let agent = try FakeAgent { connection in
            guard let id = connection.nextRequest()?["arguments"]?["id"] else { return }
            connection.send(#"{"event": "BEFORE"}"# + "\n")
            connection.send([0xFF] + Array(#"{"event": "BETWEEN", "data": {"return": \#(id)}}"#.utf8) + [0x0A])
            connection.send(#"{"event": "AND AGAIN"}"# + "\n" + #"{"return": \#(id)}"# + "\n")
            _ = connection.nextRequest()
            connection.send(#"{"event": "BEFORE THE REPLY"}"# + "\n" + #"{"return": {"fresh": true}}"# + "\n")
        }
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "--compact", "--sync-timeout", "2"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == #"{"fresh":true}"# + "\n")
    }

    /// A copy out of the guest pipelines its reads on a direct channel; an agent that sends
    /// events before every reply, between pipelined replies and between a sync's delimiter
    /// and its reply still gets every byte copied, in order.
    @Test func eventsAroundEveryReplyOfACopy() throws {
        var generator = SystemRandomNumberGenerator()
        let content = (0..<(3 << 20) / 2).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let event = #"{"event": "GUEST_PANICKED", "data": {"action": "pause"}}"# + "\n"
        let agent = try FakeAgent { connection in
            var offset = 0
            while let request = connection.nextRequest() {
                let arguments = request["arguments"]
                switch request["execute"]?.string {
                case "guest-sync-delimited":
                    guard let id = arguments?["id"] else { return }
                    connection.send(event)
                    connection.send([0xFF] + Array(event.utf8) + Array(#"{"return": \#(id)}"#.utf8) + [0x0A])
                case "guest-file-open":
                    connection.send(event + event + #"{"return": 1000}"# + "\n")
                case "guest-file-read":
                    let count = min(arguments?["count"]?.number?.int ?? 4096, content.count - offset)
                    let chunk = Array(content[offset..<offset + count])
                    offset += count
                    connection.send(event)
                    connection.send(
                        #"{"return": {"count": \#(count), "buf-b64": "\#(Base64.encode(chunk))", "eof": \#(offset == content.count)}}"#
                            + "\n")
                    connection.send(event)
                case "guest-file-close":
                    connection.send(event + #"{"return": {}}"# + "\n")
                default:
                    connection.send(#"{"error": {"class": "CommandNotFound", "desc": "not in this fake"}}"# + "\n")
                }
            }
        }
        let result = try Binaries.qga(["cat", agent.socketPath + ":/copied"])
        #expect(result.status == 0, "\(result.status) \(result.stderr)")
        #expect(result.stdout == content, "\(result.stdout.count) bytes of \(content.count)")
    }
}
