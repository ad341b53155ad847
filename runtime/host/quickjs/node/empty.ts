// Stands in for optional packages that must never load in the firmware (react-devtools-core, ws).
export default {};
