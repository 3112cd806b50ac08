import ArgumentParser
import QGAClient
import QGAProtocol
import QGATestSupport
import Testing

@testable import QGACommands

/// A domain resolver that records what it was asked and reaches nothing.
final class RecordingResolver: DomainResolver, @unchecked Sendable {
    private(set) var domains: [String] = []

    func connect(toDomain name: String, options: CallOptions) throws(ClientError) -> any AgentConnection {
        domains.append(name)
        throw ClientError(.unreachable, "\(name): the recording resolver reaches nothing")
    }
}

/// A connection that records the requests sent through it and answers each with `{}`.
final class RecordingConnection: AgentConnection {
    var requests: [Request] = []
    var label: String { "recording" }

    func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
        requests.append(request)
        let raw = Array(#"{"return": {}}"#.utf8)
        do { return Reply(incoming: try Incoming(JSONParser.parse(raw)), raw: raw) } catch {
            throw ClientError(.protocolViolation, error.message)
        }
    }
}

/// A connection with its own way of shutting down (as libvirt's is).
final class OwnShutdownConnection: AgentConnection {
    var modes: [ShutdownMode] = []
    var label: String { "own" }

    func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
        throw ClientError(.protocolViolation, "no request was expected: \(request.execute)")
    }

    func shutdown(_ mode: ShutdownMode, options: CallOptions) throws(ClientError) { modes.append(mode) }
}

@Suite struct TargetResolutionTests {
    @Test func aSocketTargetNeverReachesTheDomainResolver() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(#"{"return": {}}"# + "\n")
        }
        let resolver = RecordingResolver()
        let connection = try connect(to: .unix(path: agent.socketPath), options: CallOptions(), domains: resolver)
        #expect(try connection.call("guest-ping") == .object([:]))
        #expect(resolver.domains.isEmpty)
    }

    @Test func aDomainTargetGoesToTheResolverOnly() {
        let resolver = RecordingResolver()
        #expect(throws: ClientError.self) { try connect(to: .domain("vm1"), options: CallOptions(), domains: resolver) }
        #expect(resolver.domains == ["vm1"])
        #expect(throws: ClientError.self) { try connect(to: .domain("vm1"), options: CallOptions(), domains: nil) }
    }

    @Test func theCommandLineParsesTheTargetOnce() throws {
        let exec = try #require(try QGA.parseAsRoot(["exec", "/run/vm.sock", "guest-ping"]) as? Exec)
        #expect(exec.target == .unix(path: "/run/vm.sock"))
        let freeze = try #require(try QGA.parseAsRoot(["fsfreeze", "status", "unix:vm.sock"]) as? FSFreeze)
        #expect(freeze.target == .unix(path: "vm.sock"))
        let reboot = try #require(try QGA.parseAsRoot(["reboot", "vm1"]) as? Reboot)
        #expect(reboot.target == .domain("vm1"))
    }

    @Test func aBadTargetIsAUsageErrorThatSaysWhy() {
        do {
            _ = try QGA.parseAsRoot(["exec", "vsock:3", "guest-ping"])
            Issue.record("vsock:3 was accepted")
        } catch {
            #expect(ExitStatus(error).code == ExitCodes.usage)
            #expect(QGA.message(for: error).contains("vsock:CID:PORT"))
        }
    }

    @Test func snapshotAndFallbackNeedADomain() {
        #expect(throws: (any Error).self) { try QGA.parseAsRoot(["snapshot", "/run/vm.sock"]) }
        #expect(throws: (any Error).self) { try QGA.parseAsRoot(["shutdown", "/run/vm.sock", "--fallback", "acpi"]) }
        #expect((try? QGA.parseAsRoot(["shutdown", "vm1", "--fallback", "acpi"])) != nil)
    }

    /// freeze-run's "thaw it with" hint must name the same target when run.
    @Test func aTargetIsWrittenBackAsItReads() throws {
        for text in ["/run/vm.sock", "unix:vm.sock", "vm1", "vsock:3:1234"] {
            let target = try Target(parsing: text)
            #expect(try Target(parsing: target.argument) == target)
        }
    }
}

@Suite struct LifecycleOperationTests {
    @Test func aDirectChannelShutsDownWithGuestShutdown() throws {
        let connection = RecordingConnection()
        try connection.shutdown(.reboot, options: CallOptions())
        #expect(connection.requests.map(\.execute) == ["guest-shutdown"])
        #expect(connection.requests.first?.arguments?["mode"] == .string("reboot"))
    }

    /// Lifecycle asks the connection, which decides how (libvirt's agent mode, or the agent).
    @Test(arguments: ShutdownMode.allCases)
    func lifecycleUsesTheConnectionsOwnShutdown(mode: ShutdownMode) throws {
        let connection = OwnShutdownConnection()
        let target = LifecycleTarget(target: .domain("vm1"), agent: connection, domain: nil)
        try Lifecycle.request(mode, target, fallback: nil, options: CallOptions())
        #expect(connection.modes == [mode])
    }
}

@Suite struct WaitOptionTests {
    @Test func waitTakesAnOptionalNumber() throws {
        func reboot(_ arguments: [String]) throws -> Reboot { try Reboot.parse(arguments) }
        #expect(try reboot(["vm", "--wait"]).wait?.seconds == 300)
        #expect(try reboot(["--wait", "vm"]).wait?.seconds == 300)
        #expect(try reboot(["--wait", "vm"]).target == .domain("vm"))
        #expect(try reboot(["--wait", "60", "vm"]).wait?.seconds == 60)
        #expect(try reboot(["vm", "--wait", "2.5"]).wait?.seconds == 2.5)
        #expect(try reboot(["vm", "--wait=7"]).wait?.seconds == 7)
        #expect(try reboot(["vm", "--wait", "--fallback", "acpi"]).wait?.seconds == 300)
        #expect(try reboot(["vm"]).wait == nil)
        #expect(throws: (any Error).self) { try reboot(["vm", "--wait", "0"]) }
        #expect(throws: (any Error).self) { try reboot(["vm", "--wait", "100000"]) }
    }

    @Test func shutdownWaitsForItsModesDefault() throws {
        let plain = try Shutdown.parse(["vm", "--wait"])
        #expect(plain.wait != nil)
        #expect(plain.wait?.seconds == nil)
        #expect(try Shutdown.parse(["vm", "--wait", "15"]).wait?.seconds == 15)
        #expect(try Shutdown.parse(["vm", "--mode", "halt", "--wait"]).mode == .halt)
    }

    @Test func freezeRunsCommandKeepsItsWaitOption() throws {
        let run = try #require(try QGA.parseAsRoot(["freeze-run", "vm", "--", "cmd", "--wait"]) as? FreezeRun)
        #expect(run.command == ["cmd", "--wait"])
    }
}

@Suite struct TopLevelHelpTests {
    @Test func helpNamesDomainTargetsAndEveryExitCode() {
        let help = QGA.helpMessage(columns: 200)
        #expect(help.contains("libvirt domain"))
        for code in ["0", "1", "2", "3", "4", "5", "6", "124", "127", "128+N", "64"] {
            #expect(help.split(separator: "\n").contains { $0.hasPrefix("  \(code) ") }, "exit code \(code) is not in the help")
        }
    }
}
