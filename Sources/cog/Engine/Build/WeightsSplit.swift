/// Which project files get layers of their own (model weights), before the code layer, so that a code edit
/// never uploads them again.
public struct WeightsSplit: Sendable, Equatable {
    /// Files at least this large.
    public var minimumBytes: Int64
    /// Cog's `--separate-weights` rule as well: files of 10 MiB or more that are not code, media or logs.
    public var separateWeights: Bool
    /// At most this many weights layers; further files share the last one.
    public var maximumLayers: Int

    public init(minimumBytes: Int64 = 100 << 20, separateWeights: Bool = false, maximumLayers: Int = 16) {
        self.minimumBytes = minimumBytes
        self.separateWeights = separateWeights
        self.maximumLayers = maximumLayers
    }
}
