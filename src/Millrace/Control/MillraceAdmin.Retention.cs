namespace Millrace;

public sealed partial class MillraceAdmin
{
    /// <summary>
    /// Cleans a queue now: deletes, in batches, the entries of every partition and priority level
    /// that every active consumer group has acknowledged, that are older than the policy's MaxAge and
    /// that are not among the newest MinCount of their stream. Entries an active group has not
    /// acknowledged are never deleted; a stream with no group keeps everything; dead letters are not
    /// touched. Groups inactive for longer than <see cref="RetentionOptions.InactiveGroupTimeout"/> do
    /// not pin the stream and are listed in the result.
    /// </summary>
    /// <param name="queue">The queue.</param>
    /// <param name="policy">The policy to apply; null: the queue's <see cref="QueueOptions.Retention"/>, or <see cref="RetentionPolicy.Normal"/>.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <exception cref="ArgumentException">The queue is not declared under this prefix (namespace), or the policy is invalid.</exception>
    /// <example>
    /// <code>
    /// var result = await admin.CleanupAsync("orders", RetentionPolicy.Low);
    /// Console.WriteLine($"{result.Deleted} deleted; inactive groups: {string.Join(", ", result.IgnoredGroups)}");
    /// </code>
    /// </example>
    public async Task<CleanupResult> CleanupAsync(string queue, RetentionPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        QueueName.Validate(queue);
        policy ??= _runtime.Options.Queue(queue).Retention ?? RetentionPolicy.Normal;
        var problems = policy.Problems("Retention policy").ToArray();
        if (problems.Length > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(policy));
        }

        if (!await QueueExistsAsync(queue, cancellationToken).ConfigureAwait(false))
        {
            throw new ArgumentException(
                $"Queue '{queue}' does not exist under prefix '{_runtime.Prefix}' (it is not in {QueueKeys.Registry(_runtime.Prefix)}); nothing to clean. " +
                "A queue is recorded when a publisher or consumer first uses it.",
                nameof(queue));
        }

        var keys = await RecordedKeysAsync(queue, cancellationToken).ConfigureAwait(false);
        return await new RetentionCleaner(Redis, _runtime.Options.Retention).CleanAsync(keys, policy, cancellationToken).ConfigureAwait(false);
    }
}
