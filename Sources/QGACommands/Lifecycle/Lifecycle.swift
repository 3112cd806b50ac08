import ArgumentParser
import QGAClient
import QGALibvirt
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
    /// Watches the agent go down and come back; made before the request, so that libvirt's
    /// events about it cannot be missed.
    let watch: (any AgentWatch)?

    init(target: Target, agent: any AgentConnection, domain: ResolvedDomain?, watch: (any AgentWatch)? = nil) {
        self.target = target
        self.agent = agent
        self.domain = domain
        self.watch = watch
    }

    /// Connects to the target's agent; for a domain, through the same lookup that finds it.
    /// With `watching`, also starts watching the agent (on libvirt's events for a domain).
    init(_ target: Target, options: AgentOptions, watching: Bool) throws(ClientError) {
        self.target = target
        if case .domain(let name) = target {
            let resolved = try options.libvirt.resolve(domain: name, options: options.callOptions, events: watching)
            agent = resolved.agent
            domain = resolved
            watch = watching ? try resolved.watch() : nil
        } else {
            agent = try options.connect(target)
            domain = nil
            watch = watching ? try options.watch(target) : nil
        }
    }
}

extension AgentOptions {
    /// A watch on the target's agent: libvirt's events for a domain's own agent channel,
    /// polling with backoff for a socket.
    func watch(_ target: Target) throws(ClientError) -> any AgentWatch {
        try QGAClient.watch(target, options: callOptions, domains: libvirt)
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
    static func waitUntilDown(_ target: LifecycleTarget, seconds: Double, options: CallOptions) throws(ClientError) {
        let deadline = Deadline.after(seconds: seconds)
        if let domain = target.domain?.domain {
            while !deadline.hasPassed {
                if try domain.state() == .shutOff { return }
                WaitClock.system.pause(min(.milliseconds(250), deadline.remaining))
            }
            throw ClientError(.notResponding, "\(target.agent.label): the guest did not shut down within \(Int(seconds)) s")
        }
        guard let watch = target.watch else { return }
        // A socket's agent may serve one client at a time: let it serve the watch.
        target.agent.cancel()
        try watch.untilGone(by: deadline, options: options)
    }

    /// Waits until the guest has gone down and its agent answers again (`target.watch`).
    static func waitUntilRebooted(_ target: LifecycleTarget, seconds: Double, options: CallOptions) throws(ClientError) {
        guard let watch = target.watch else { return }
        target.agent.cancel()
        try waiting(seconds) { deadline throws(ClientError) in
            try watch.untilGone(by: deadline, options: options)
            try watch.untilAnswering(by: deadline, options: options)
        }
    }

    /// Runs a wait of `seconds`; a failure at its deadline says how long it waited.
    static func waiting(_ seconds: Double, _ body: (Deadline) throws(ClientError) -> Void) throws(ClientError) {
        let deadline = Deadline.after(seconds: seconds)
        do {
            try body(deadline)
        } catch where error.isTransient && deadline.hasPassed {
            throw ClientError(error.code, "\(error.message) (waited \(WaitTime(seconds: seconds)) s)", cause: error)
        }
    }
}
