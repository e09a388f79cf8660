using System.Globalization;

namespace Millrace.Redis.Topology;

/// <summary>A <c>MOVED slot host:port</c> or <c>ASK slot host:port</c> error.</summary>
internal readonly record struct ClusterRedirect(bool IsMoved, int Slot, RedisEndpoint Endpoint)
{
    public static bool TryParse(string error, out ClusterRedirect redirect)
    {
        redirect = default;
        var parts = error.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || parts[0] is not ("MOVED" or "ASK") || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var slot))
        {
            return false;
        }

        redirect = new ClusterRedirect(parts[0] == "MOVED", slot, RedisEndpoint.Parse(parts[2]));
        return true;
    }
}
