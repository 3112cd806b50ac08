import ArgumentParser
import QGAClient
import QGALibvirt
import QGAProtocol
import Glibc
import QGASystem

/// How the guest should go down.
enum ShutdownMode: String, CaseIterable, ExpressibleByArgument {
    case powerdown
    case halt
    case reboot
}

/// What to do when the agent cannot do it.
enum Fallback: String, CaseIterable, ExpressibleByArgument {
    /// Press the virtual ACPI power button (libvirt domains only).
    case acpi
}

/// `--fallback`, shared by shutdown and reboot.
struct FallbackOption: ParsableArguments {
    @Option(help: "If the agent cannot be reached or does not answer, press the ACPI power button (libvirt domains only).")
    var fallback: Fallback?

    func validate(target: String) throws {
        if fallback != nil && !isDomain(target) {
            throw ValidationError("--fallback acpi needs a libvirt domain as the target")
        }
    }
}

/// Agent-mode shutdown and reboot, and waiting for their effect; shared by both commands.
enum Lifecycle {
    /// Asks the agent to shut down or reboot the guest; with `fallback`, presses the ACPI
    /// button when the agent cannot be reached or does not answer (never otherwise).
    static func request(_ mode: ShutdownMode, _ target: ResolvedTarget, fallback: Fallback?, options: CallOptions)
        throws(ClientError)
    {
        let deadline = options.seconds(for: "guest-shutdown") + 60
        do throws(ClientError) {
            switch (target.agent as? LibvirtAgent, mode) {
            case (let agent?, .powerdown): try agent.domain.shutdown(acpi: false, deadlineSeconds: deadline)
            case (let agent?, .reboot): try agent.domain.reboot(acpi: false, deadlineSeconds: deadline)
            default:
                // Direct channels, and halt (which libvirt's API does not offer).
                _ = try target.agent.call("guest-shutdown", arguments: ["mode": .string(mode.rawValue)], options: options)
            }
        } catch where fallback == .acpi && (error.code == .unreachable || error.code == .notResponding) {
            guard let domain = target.domain else { throw error }
            Console.error("qga: \(error.message); pressing the ACPI power button instead (--fallback acpi)")
            if mode == .reboot {
                try domain.reboot(acpi: true, deadlineSeconds: deadline)
            } else {
                try domain.shutdown(acpi: true, deadlineSeconds: deadline)
            }
        }
    }

    /// Waits until the guest has gone down: the domain is shut off, or, without libvirt,
    /// the agent no longer answers.
    static func waitUntilDown(_ target: ResolvedTarget, targetText: String, agent: AgentOptions, seconds: Double)
        throws(ClientError)
    {
        let deadline = Deadline.after(seconds: seconds)
        while !deadline.hasPassed {
            if let domain = target.domain {
                if try domain.state() == .shutOff { return }
            } else if !answers(targetText, agent: agent) {
                return
            }
            sleep(0.25)
        }
        throw ClientError(.notResponding, "\(target.agent.label): the guest did not shut down within \(Int(seconds)) s")
    }

    /// Waits until the guest has gone down and its agent answers again.
    static func waitUntilRebooted(_ target: ResolvedTarget, targetText: String, agent: AgentOptions, seconds: Double)
        throws(ClientError)
    {
        let deadline = Deadline.after(seconds: seconds)
        var wentDown = false
        while !deadline.hasPassed {
            let up = isUp(target, targetText: targetText, agent: agent)
            if !up {
                wentDown = true
            } else if wentDown {
                return
            }
            if let domain = target.domain, try domain.state() == .shutOff {
                throw ClientError(.unreachable, "\(target.agent.label): the domain shut off instead of rebooting")
            }
            sleep(wentDown ? 0.5 : 0.2)
        }
        let what = wentDown ? "its agent did not come back" : "the guest did not go down"
        throw ClientError(.notResponding, "\(target.agent.label): \(what) within \(Int(seconds)) s")
    }

    /// Whether the agent is there: for a libvirt-managed channel, libvirt sees the guest
    /// open its port and the agent answers; otherwise a sync succeeds on a new connection.
    private static func isUp(_ target: ResolvedTarget, targetText: String, agent: AgentOptions) -> Bool {
        if let managed = target.agent as? LibvirtAgent {
            let state = (try? managed.domain.xml()).flatMap { xml in
                AgentChannel.all(inDomainXML: xml).first(where: \.isLibvirtManaged)?.state
            }
            return state == "connected" && managed.domain.agentAnswers(deadlineSeconds: 3)
        }
        return answers(targetText, agent: agent)
    }

    /// Whether a fresh connection to the target's agent syncs and answers guest-ping.
    private static func answers(_ targetText: String, agent: AgentOptions) -> Bool {
        var options = agent.callOptions
        options.syncTimeout = .seconds(1)
        options.timeout = .seconds(2)
        return (try? agent.resolve(targetText).agent.call("guest-ping", options: options)) != nil
    }

    private static func sleep(_ seconds: Double) {
        usleep(UInt32(seconds * 1_000_000))
    }
}
