import { createApp } from 'vue';
import App from './App.vue';
import './style.css';

// No plugin: LiveView.vue creates its client with useWebSocket(url, options) and provides it.
createApp(App).mount('#app');
