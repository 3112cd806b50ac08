import ArgumentParser
import QGAClient
import QGALibvirt
import Glibc
import QGASystem

extension ShutdownMode: ExpressibleByArgument {}

/// What to do when the agent cannot do it.
enum Fallback: String, CaseIterable, ExpressibleByArgument {
    /// Press the virtual ACPI power button (libvirt domains only).
    case acpi
}

/// `--fallback`, shared by shutdown and reboot.
struct FallbackOption: ParsableArguments {
    @Option(help: "If the agent cannot be reached or does not answer, press the ACPI power button (libvirt domains only).")
    var fallback: Fallback?

    func validate(target: Target) throws {
        if fallback != nil && !target.isDomain {
            throw ValidationError("--fallback acpi needs a libvirt domain as the target")
        }
    }
}

/// A target being shut down or rebooted: its agent and, for a domain, the domain and the
/// channel its agent is on (for the ACPI fallback and for watching it go down and up).
struct LifecycleTarget {
    let target: Target
    let agent: any AgentConnection
    let domain: ResolvedDomain?

    init(target: Target, agent: any AgentConnection, domain: ResolvedDomain?) {
        self.target = target
        self.agent = agent
        self.domain = domain
    }

    /// Connects to the target's agent; for a domain, through the same lookup that finds it.
    init(_ target: Target, options: AgentOptions) throws(ClientError) {
        self.target = target
        if case .domain(let name) = target {
            let resolved = try options.libvirt.resolve(domain: name, options: options.callOptions)
            agent = resolved.agent
            domain = resolved
        } else {
            agent = try options.connect(target)
            domain = nil
        }
    }
}

/// Agent-mode shutdown and reboot, and waiting for their effect; shared by both commands.
enum Lifecycle {
    /// Asks the agent to shut down or reboot the guest; with `fallback`, presses the ACPI
    /// button when the agent cannot be reached or does not answer (never otherwise).
    static func request(_ mode: ShutdownMode, _ target: LifecycleTarget, fallback: Fallback?, options: CallOptions)
        throws(ClientError)
    {
        do throws(ClientError) {
            try target.agent.shutdown(mode, options: options)
        } catch where fallback == .acpi && (error.code == .unreachable || error.code == .notResponding) {
            guard let domain = target.domain?.domain else { throw error }
            Console.error("qga: \(error.message); pressing the ACPI power button instead (--fallback acpi)")
            let deadline = LibvirtAgent.lifecycleSeconds(options)
            if mode == .reboot {
                try domain.reboot(acpi: true, deadlineSeconds: deadline)
            } else {
                try domain.shutdown(acpi: true, deadlineSeconds: deadline)
            }
        }
    }

    /// Waits until the guest has gone down: the domain is shut off, or, without libvirt,
    /// the agent no longer answers.
    static func waitUntilDown(_ target: LifecycleTarget, agent: AgentOptions, seconds: Double) throws(ClientError) {
        let deadline = Deadline.after(seconds: seconds)
        while !deadline.hasPassed {
            if let domain = target.domain?.domain {
                if try domain.state() == .shutOff { return }
            } else if !answers(target.target, agent: agent) {
                return
            }
            sleep(0.25)
        }
        throw ClientError(.notResponding, "\(target.agent.label): the guest did not shut down within \(Int(seconds)) s")
    }

    /// Waits until the guest has gone down and its agent answers again.
    static func waitUntilRebooted(_ target: LifecycleTarget, agent: AgentOptions, seconds: Double) throws(ClientError) {
        let deadline = Deadline.after(seconds: seconds)
        var wentDown = false
        while !deadline.hasPassed {
            let up = isUp(target, agent: agent)
            if !up {
                wentDown = true
            } else if wentDown {
                return
            }
            if let domain = target.domain?.domain, try domain.state() == .shutOff {
                throw ClientError(.unreachable, "\(target.agent.label): the domain shut off instead of rebooting")
            }
            sleep(wentDown ? 0.5 : 0.2)
        }
        let what = wentDown ? "its agent did not come back" : "the guest did not go down"
        throw ClientError(.notResponding, "\(target.agent.label): \(what) within \(Int(seconds)) s")
    }

    /// Whether the agent is there: for a libvirt-managed channel, libvirt sees the guest
    /// open its port and the agent answers; otherwise a sync succeeds on a new connection.
    private static func isUp(_ target: LifecycleTarget, agent: AgentOptions) -> Bool {
        if let resolved = target.domain, resolved.channel.isLibvirtManaged {
            let state = (try? resolved.domain.xml()).flatMap { xml in
                AgentChannel.all(inDomainXML: xml).first(where: \.isLibvirtManaged)?.state
            }
            return state == "connected" && resolved.domain.agentAnswers(deadlineSeconds: 3)
        }
        return answers(target.target, agent: agent)
    }

    /// Whether a fresh connection to the target's agent syncs and answers guest-ping.
    private static func answers(_ target: Target, agent: AgentOptions) -> Bool {
        var options = agent.callOptions
        options.syncTimeout = .seconds(1)
        options.timeout = .seconds(2)
        return (try? agent.connect(target).call("guest-ping", options: options)) != nil
    }

    private static func sleep(_ seconds: Double) {
        usleep(UInt32(seconds * 1_000_000))
    }
}
