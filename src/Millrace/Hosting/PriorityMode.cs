namespace Millrace;

/// <summary>How a consumer chooses between priority levels that have messages waiting.</summary>
public enum PriorityMode
{
    /// <summary>Always the highest level with messages (optionally with <see cref="QueueOptions.StarvationGuard"/>).</summary>
    Strict,
    /// <summary>Each read picks a level at random in proportion to <see cref="QueueOptions.PriorityWeights"/>.</summary>
    Weighted,
}
