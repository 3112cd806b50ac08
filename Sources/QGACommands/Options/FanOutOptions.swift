import ArgumentParser
import QGAClient
import QGALibvirt

/// `--all` and `-j`: how a command reaches several targets at once.
struct FanOutOptions: ParsableArguments {
    @Flag(help: "Every running domain of the libvirt connection (of each -c, when several are given), in name order.")
    var all = false

    @Option(
        name: [.customShort("j"), .customLong("jobs")],
        help: ArgumentHelp(
            "With several targets: at most this many at once per libvirt connection, and as many socket targets at once (default: 8 per libvirt connection, as libvirtd serves 20 calls at a time; 32 for sockets).",
            valueName: "n"))
    var jobs: Int?

    /// Targets at once per libvirt connection by default: libvirtd has 20 workers, shared
    /// with everyone else using it.
    static let libvirtJobs = 8
    /// Socket targets at once by default: each is its own agent and costs qga a thread and
    /// a descriptor only.
    static let socketJobs = 32

    func validate() throws {
        if let jobs, !(1...1024).contains(jobs) { throw ValidationError("--jobs must be between 1 and 1024") }
    }

    /// Whether the command reaches several targets (and prints per target): --all, or more
    /// than one target given. One target alone behaves as it always has.
    func isFanOut(_ targets: [Target]) -> Bool { all || targets.count > 1 }

    /// The usage errors of a command line's targets.
    func check(_ targets: [Target]) throws {
        if all && !targets.isEmpty { throw ValidationError("--all takes no targets") }
        if !all && targets.isEmpty { throw ValidationError("Missing expected argument '<target> ...'") }
    }
}

/// One target of several: how to reach it, and how output names it.
struct FanOutTarget: Sendable {
    enum Place: Sendable {
        /// As written on the command line, with at most one libvirt URI.
        case given(Target)
        /// A domain on one URI: from --all's listing, or found there among several -c.
        case domain(name: String, uri: String)
        /// Known to fail before anything is sent (a listing or lookup that failed).
        case failed(ClientError)
    }

    let place: Place
    /// The target as the user wrote it, or the domain's name (JSON's "target").
    let name: String
    /// The URI serving it, when several -c are given (JSON's "connect").
    let uri: String?

    /// How the human output names it: the name, and with several -c its URI.
    var label: String { uri.map { "\(name) (\($0))" } ?? name }
}

/// The targets of one command line and the shared means to reach them: connections to
/// libvirt are opened once per URI and used by every target on it.
struct FanOutPlan {
    let targets: [FanOutTarget]
    let resolver: LibvirtResolver
    let options: CallOptions
    let jobs: Int?

    /// The targets of `targets` or, with --all, every running domain of each URI. With
    /// several -c a named domain is looked up on each URI in order and served by the first
    /// that has it.
    init(targets given: [Target], fanOut: FanOutOptions, agent: AgentOptions) {
        resolver = agent.libvirt
        options = agent.callOptions
        jobs = fanOut.jobs
        let uris = resolver.uris
        let several = agent.uris.count > 1
        var targets: [FanOutTarget] = []
        if fanOut.all {
            for uri in uris {
                do {
                    let names = try resolver.connection(uri, options: options).domainNames(runningOnly: true)
                    targets += names.map { FanOutTarget(place: .domain(name: $0, uri: uri), name: $0, uri: several ? uri : nil) }
                } catch {
                    targets.append(FanOutTarget(place: .failed(error), name: uri, uri: nil))
                }
            }
        } else {
            for target in given {
                guard case .domain(let name) = target, several else {
                    targets.append(FanOutTarget(place: .given(target), name: target.description, uri: nil))
                    continue
                }
                do {
                    let domain = try resolver.domain(name, options: options)
                    let uri = domain.connection.uri
                    targets.append(FanOutTarget(place: .domain(name: domain.name, uri: uri), name: name, uri: uri))
                } catch {
                    targets.append(FanOutTarget(place: .failed(error), name: name, uri: nil))
                }
            }
        }
        self.targets = targets
    }

    /// Connects to one target's agent.
    func connect(_ target: FanOutTarget) throws(ClientError) -> any AgentConnection {
        switch target.place {
        case .given(let given): try QGAClient.connect(to: given, options: options, domains: resolver)
        case .domain(let name, let uri): try resolver.resolve(domain: name, on: uri, options: options).agent
        case .failed(let error): throw error
        }
    }

    /// Runs `work` on every target's agent, at most `-j` at once per libvirt connection and
    /// among the socket targets, and calls `deliver` with each outcome in the targets' order.
    func run<Outcome: Sendable>(
        _ work: @escaping (FanOutTarget, any AgentConnection) throws -> Outcome,
        deliver: (FanOutTarget, Result<Outcome, any Error>) throws -> Void
    ) rethrows {
        let uris = resolver.uris
        // Lane 0 holds the sockets (and the targets that fail before any call); lane k the
        // domains of the k-th URI.
        let lanes = targets.map { target -> Int in
            switch target.place {
            case .given(.domain): 1
            case .domain(_, let uri): 1 + (uris.firstIndex(of: uri) ?? 0)
            case .given, .failed: 0
            }
        }
        let sockets = jobs ?? FanOutOptions.socketJobs
        let perConnection = jobs ?? FanOutOptions.libvirtJobs
        // The command's own work runs on the pool's threads: it reads the command's parsed
        // options, which nothing changes while it runs.
        let job = FanOutJob(plan: self, work: work)
        try FanOut.run(
            lanes: lanes, limit: { $0 == 0 ? sockets : perConnection },
            work: { index in job.run(index) },
            deliver: { index, outcome in try deliver(targets[index], outcome) })
    }
}

/// One command's work on each target, shared by the fan-out's threads: the plan and a
/// closure over the command's parsed options, read-only while the threads run.
private final class FanOutJob<Outcome: Sendable>: @unchecked Sendable {
    let plan: FanOutPlan
    let work: (FanOutTarget, any AgentConnection) throws -> Outcome

    init(plan: FanOutPlan, work: @escaping (FanOutTarget, any AgentConnection) throws -> Outcome) {
        self.plan = plan
        self.work = work
    }

    func run(_ index: Int) -> Result<Outcome, any Error> {
        let target = plan.targets[index]
        do {
            return .success(try work(target, try plan.connect(target)))
        } catch {
            return .failure(error)
        }
    }
}
