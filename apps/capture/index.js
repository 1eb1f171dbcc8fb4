// `node apps/capture` from the repository root, as the READMEs run it: the package has no main
// module (it exports nothing to import; installed, it is the ixy-capture bin), so Node loads this file.
import './dist/main.js';
