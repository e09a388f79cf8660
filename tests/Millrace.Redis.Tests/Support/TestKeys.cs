namespace Millrace.Redis.Tests.Support;

/// <summary>Unique key names per test, so tests run in parallel on one server without flushing it.</summary>
public static class TestKeys
{
    public static string Unique(string name) => $"test:{Guid.NewGuid():N}:{name}";

    /// <summary>A key whose hash tag puts it in a chosen Cluster slot.</summary>
    public static string InSlot(int slot, string name)
    {
        for (var i = 0; ; i++)
        {
            var tag = $"s{slot}-{i}";
            if (HashSlot.Of(tag) == slot)
            {
                return $"test:{{{tag}}}:{Guid.NewGuid():N}:{name}";
            }
        }
    }
}
