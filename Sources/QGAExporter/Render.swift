import Dispatch
import Prometheus
import QGASystem

/// Turns the store's snapshots into the text exposition format.
///
/// One registry lives as long as the renderer, and each series in it is created once: adding
/// a series to swift-prometheus's registry copies its whole family, so building a fresh
/// registry per scrape cost O(n²) (180 ms for 5,500 series from 64 agents). Each scrape
/// instead sets every series from the store (a counter is reset and incremented by the
/// guest's absolute value, which is safe because only this renderer emits, under its lock)
/// and unregisters the series it did not see, so vanished domains, filesystems and devices
/// disappear.
public final class Renderer: @unchecked Sendable {
    private let registry = PrometheusCollectorRegistry()
    private enum Series {
        case gauge(Gauge)
        case counter(Counter)
    }
    /// Every registered series, with the scrape that last set it.
    private var live: [SeriesKey: (series: Series, scrape: Int)] = [:]
    private var scrape = 0
    private let lock = DispatchSemaphore(value: 1)
    /// Each metric's label names, looked up once.
    private static let labelNames = Dictionary(uniqueKeysWithValues: Metric.allCases.map { ($0, $0.allLabels) })

    public init() {}

    /// Appends the metrics of `store` as of `now` to `buffer`.
    public func render(_ store: SnapshotStore, now: ContinuousClock.Instant = .now, into buffer: inout [UInt8]) {
        lock.wait()
        defer { lock.signal() }
        let (targets, connections) = store.copy()
        scrape += 1

        set(.exporterTargets, [], Double(targets.count))
        for (uri, state) in connections.sorted(by: { $0.key < $1.key }) {
            set(.libvirtUp, [uri], state.up ? 1 : 0)
            set(.libvirtErrorsTotal, [uri], Double(state.errors))
        }
        for (key, snapshot) in targets.sorted(by: { $0.key < $1.key }) {
            let base = [key.connection, key.domain]
            guard let up = snapshot.up else { continue }
            set(.agentUp, base, up ? 1 : 0)
            if up, let ping = snapshot.pingSeconds { set(.agentPingSeconds, base, ping) }
            if let frozen = snapshot.frozen { set(.filesystemsFrozen, base, frozen ? 1 : 0) }
            for (command, result) in snapshot.results.sorted(by: { $0.key < $1.key }) {
                for sample in result.samples {
                    set(sample.metric, base + sample.labels, sample.value)
                }
                let age = (now - result.at).inSeconds
                set(.pollAgeSeconds, base + [command], max(0, age))
            }
            for (command, count) in snapshot.errors.sorted(by: { $0.key < $1.key }) {
                set(.pollErrorsTotal, base + [command], Double(count))
            }
        }
        var vanished: [SeriesKey] = []
        for (key, entry) in live where entry.scrape != scrape {
            switch entry.series {
            case .gauge(let gauge): registry.unregisterGauge(gauge)
            case .counter(let counter): registry.unregisterCounter(counter)
            }
            vanished.append(key)
        }
        for key in vanished { live[key] = nil }
        registry.emit(into: &buffer)
    }

    /// The rendered text, for tests and tools.
    public func text(_ store: SnapshotStore, now: ContinuousClock.Instant = .now) -> String {
        var bytes: [UInt8] = []
        render(store, now: now, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    struct SeriesKey: Hashable {
        var metric: Metric
        var labels: [String]
    }

    /// Sets one series from the table (registering it the first time it is seen). A value that cannot be
    /// written (not finite, negative, a label count that does not match the table) and a
    /// second series with the same labels are left out, so that nothing a guest sends can
    /// stop the exporter.
    private func set(_ metric: Metric, _ labelValues: [String], _ value: Double) {
        guard let names = Renderer.labelNames[metric], value.isFinite, value >= 0, labelValues.count == names.count else { return }
        let values = labelValues.map(Renderer.boundedLabel)
        let key = SeriesKey(metric: metric, labels: values)
        let series: Series
        // One lookup: found and already set in this scrape means a duplicate, left out.
        if let index = live.index(forKey: key) {
            guard live.values[index].scrape != scrape else { return }
            live.values[index].scrape = scrape
            series = live.values[index].series
        } else {
            let labels = Array(zip(names, values))
            let descriptor = MetricNameDescriptor(metricName: metric.name, unitName: "", helpText: metric.help)
            switch (metric.kind, labels.isEmpty) {
            case (.gauge, true): series = .gauge(registry.makeGauge(descriptor: descriptor))
            case (.gauge, false): series = .gauge(registry.makeGauge(descriptor: descriptor, labels: labels))
            case (.counter, true): series = .counter(registry.makeCounter(descriptor: descriptor))
            case (.counter, false): series = .counter(registry.makeCounter(descriptor: descriptor, labels: labels))
            }
            live[key] = (series, scrape)
        }
        switch series {
        case .gauge(let gauge): gauge.set(value)
        case .counter(let counter):
            // Set from the guest's absolute value; only render emits, under the lock.
            counter.reset()
            counter.increment(by: value)
        }
    }

    /// The longest label value written, in Unicode scalars (a guest names its own mount
    /// points and devices).
    public static let maxLabelLength = 256

    static func boundedLabel(_ value: String) -> String {
        // No longer in bytes than the bound: no longer in scalars either (counting bytes is O(1)).
        guard value.utf8.count > maxLabelLength else { return value }
        let scalars = value.unicodeScalars
        guard scalars.count > maxLabelLength else { return value }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(maxLabelLength))
        return String(view)
    }
}
