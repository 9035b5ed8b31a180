// Progressive enhancement only: every page works without this file.
// The password policy hint of the registration form (issue 15, part 4) will live here.
export {};
