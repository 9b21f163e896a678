namespace System.Runtime.CompilerServices;

/// <summary>Lets records compile on netstandard2.0, where the runtime type is missing.</summary>
internal static class IsExternalInit
{
}
