// Sorting the short string lists the planner builds per rule. Array#sort allocates work space on
// every call, which for hundreds of two- or three-element lists per plan costs more than the sort.

/** Up to this length an insertion sort is used. */
const SHORT = 16;

/** Sorts `list` in place exactly as `list.sort()` does (stable, by UTF-16 code units) and returns it. */
export function sortStrings(list: string[]): string[] {
  if (list.length > SHORT) return list.sort();
  for (let i = 1; i < list.length; i++) {
    const v = list[i] ?? "";
    let j = i - 1;
    for (; j >= 0 && (list[j] ?? "") > v; j--) list[j + 1] = list[j] ?? "";
    list[j + 1] = v;
  }
  return list;
}
